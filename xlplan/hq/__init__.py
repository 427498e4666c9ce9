"""HQ's side: the store of submissions, the merge, the consolidated workbook and the status page.

Builds on the workbook side (xlplan.workbook) and the template side.
"""
