"""The words xlplan shows to people, in Simplified Chinese and English."""
from __future__ import annotations

TEXTS = {
    "legend": {"zh": "黄色格填写；灰色格由总部下达；白色格自动计算",
               "en": "Fill in the yellow cells; grey cells come from HQ; white cells are computed"},
    "unit": {"zh": "单位", "en": "Unit"},
    "year": {"zh": "全年", "en": "Year"},
    "invalid": {"zh": "输入不正确", "en": "Invalid entry"},
    "choose_from_list": {"zh": "请从清单中选择。", "en": "Choose a value from the list."},
    "month_1_12": {"zh": "请输入 1 到 12 的月份。", "en": "Enter a month from 1 to 12."},
    "number_at_least": {"zh": "请输入不小于 {lo} 的数字。", "en": "Enter a number of at least {lo}."},
    "number_between": {"zh": "请输入 {lo} 到 {hi} 之间的数字。", "en": "Enter a number from {lo} to {hi}."},
    "share_between": {"zh": "请输入 0% 到 100% 之间的比例。", "en": "Enter a share from 0% to 100%."},
    "checks_sheet": {"zh": "检查", "en": "Checks"},
    "checks_note": {"zh": "按“重新计算”后，这里列出每一项需要注意的地方；点击位置可跳到该格。",
                    "en": "Press Recalculate: every finding is listed here; click a location to jump to its cell."},
    "col_severity": {"zh": "级别", "en": "Severity"},
    "col_code": {"zh": "代码", "en": "Code"},
    "col_message": {"zh": "说明", "en": "Message"},
    "col_where": {"zh": "位置", "en": "Where"},
    "col_cell": {"zh": "单元格", "en": "Cell"},
    "error": {"zh": "错误", "en": "error"},
    "warning": {"zh": "警告", "en": "warning"},
    "info": {"zh": "提示", "en": "info"},
    "too_little": {"zh": "少 {diff}", "en": "{diff} too little"},
    "too_much": {"zh": "多 {diff}", "en": "{diff} too much"},
    "no_findings": {"zh": "没有发现问题。", "en": "No findings."},
}


def t(key: str, lang: str) -> str:
    entry = TEXTS[key]
    return entry.get(lang) or entry["zh"]
