"""The template side: template definitions, the formula language, the engine and the generator.

Nothing here reads a filled workbook: the workbook side (xlplan.workbook) builds on this
package, never the other way round.
"""
