"""xlplan: Excel-native planning. Templates, a workbook engine, Excel binding, HQ merge."""
__version__ = "0.1.0"
