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
    "template_version": {"zh": "此工作簿用模板 {template} 版本 {found} 制作，目前的版本是 {expected}；请向总部索取新版工作簿",
                         "en": "this workbook was made with {template} version {found}; the current version is {expected}: ask HQ for a new workbook"},
    "name_missing": {"zh": "找不到“{label}”（名称 {name}）：可能被删除或改名", "en": "cannot find “{label}” (name {name}): it was deleted or renamed"},
    "block_shape": {"zh": "“{label}”应有 {expected} 格，现在是 {found}：块内的行或列被插入或删除",
                    "en": "“{label}” should be {expected} cells, found {found}: rows or columns were inserted or deleted inside it"},
    "table_missing": {"zh": "找不到表格“{label}”（{table}）", "en": "cannot find the table “{label}” ({table})"},
    "column_renamed": {"zh": "栏位应为“{expected}”，现在是“{found}”；按位置读取", "en": "the column should be “{expected}”, found “{found}”; read by position"},
    "column_missing": {"zh": "表格 {table} 缺少栏位“{label}”", "en": "the table {table} has no column “{label}”"},
    "not_number": {"zh": "“{label}”应填数字，这里是文字“{value}”，无法计算", "en": "“{label}” takes a number; found the text “{value}”, which cannot be computed"},
    "text_read_as_number": {"zh": "“{label}”的“{value}”是文字，已按数字 {number} 计算；请重新输入为数字",
                            "en": "“{label}”: “{value}” is text; computed as the number {number}: retype it as a number"},
    "date_not_number": {"zh": "“{label}”应填数字，这里是日期 {value}", "en": "“{label}” takes a number; found the date {value}"},
    "negative": {"zh": "“{label}”不能小于 {lo}，这里是 {value}", "en": "“{label}” cannot be below {lo}; found {value}"},
    "above_max": {"zh": "“{label}”不能大于 {hi}，这里是 {value}", "en": "“{label}” cannot be above {hi}; found {value}"},
    "share_range": {"zh": "“{label}”是比例，应在 0% 到 100% 之间，这里是 {value}", "en": "“{label}” is a share and must be from 0% to 100%; found {value}"},
    "month_range": {"zh": "“{label}”应为 1 到 12 的月份，这里是 {value}", "en": "“{label}” must be a month from 1 to 12; found {value}"},
    "not_in_list": {"zh": "“{label}”的“{value}”不在清单中（{choices}）", "en": "“{label}”: “{value}” is not in the list ({choices})"},
    "missing": {"zh": "“{label}”未填写（{count} 格空白）", "en": "“{label}” is not filled in ({count} empty)"},
    "missing_in_row": {"zh": "此行已填写，但“{label}”空白", "en": "this row is filled in but “{label}” is empty"},
}


def t(key: str, lang: str) -> str:
    entry = TEXTS[key]
    return entry.get(lang) or entry["zh"]
