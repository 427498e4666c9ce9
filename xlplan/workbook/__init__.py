"""The workbook side: a filled workbook read into a Plan, checked, and written back.

Builds on the template side (xlplan.template); knows nothing of HQ (xlplan.hq).
"""
