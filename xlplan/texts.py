"""Every word xlplan shows to people, outside the templates' own labels: one catalogue.

Each entry is keyed by a stable id and holds one text per language. Languages are
BCP 47 codes: `zh-Hans` (Simplified Chinese), `zh-Hant` (Traditional Chinese, in the
words of a Taiwanese life insurer: 標準保費, 增員, 脫落, 人均產能 ...) and `en`.
`zh`, the code older workbooks carry, means `zh-Hans`. Adding a language adds one
text to each entry (and its code to LANGUAGES); no code branches on the language.

Templates keep their labels in their own YAML (`label: {zh-Hans: ..., zh-Hant: ..., en: ...}`);
`pick` chooses from such a mapping with the same fallback as the catalogue.
"""
from __future__ import annotations

from .model import MEASURES, XlplanError

LANGUAGES = ("zh-Hans", "zh-Hant", "en")
DEFAULT = "zh-Hans"
ALIASES = {"zh": "zh-Hans", "zh-cn": "zh-Hans", "zh-sg": "zh-Hans", "zh-hans": "zh-Hans",
           "zh-hans-cn": "zh-Hans", "zh-tw": "zh-Hant", "zh-hk": "zh-Hant", "zh-mo": "zh-Hant",
           "zh-hant": "zh-Hant", "zh-hant-tw": "zh-Hant", "en": "en"}
# When a text is missing in a language, the nearest one that exists: Traditional and
# Simplified Chinese read each other more easily than English (the tests require every
# language of every entry, so the fallback only serves templates written elsewhere).
FALLBACK = {"zh-Hans": ("zh-Hans", "zh-Hant", "en"), "zh-Hant": ("zh-Hant", "zh-Hans", "en"),
            "en": ("en", "zh-Hans", "zh-Hant")}


class UnknownLanguage(XlplanError, ValueError):
    """A language code xlplan has no words for."""


def language(code: str | None) -> str:
    """The BCP 47 code xlplan uses for `code`: 'zh' and 'zh-CN' are 'zh-Hans', 'zh-TW' is 'zh-Hant'."""
    if not code:
        return DEFAULT
    key = str(code).strip().replace("_", "-").lower()
    if key in ALIASES:
        return ALIASES[key]
    if key.startswith("en-"):
        return "en"
    raise UnknownLanguage(f"no language {code!r}: use one of {', '.join(LANGUAGES)} (zh means zh-Hans)")


def pick(texts: dict, lang: str):
    """The entry of `texts` (language → text) for `lang`, else the nearest language given."""
    lang = language(lang) if lang not in FALLBACK else lang
    for candidate in FALLBACK[lang]:
        found = texts.get(candidate)
        if found is None and candidate == "zh-Hans":
            found = texts.get("zh")
        if found not in (None, ""):
            return found
    return next(iter(texts.values()), "")


def t(key: str, lang: str) -> str:
    return pick(TEXTS[key], lang)


def measure_words(lang: str) -> dict[str, str]:
    """The words a `measure` cell offers in `lang`, each with the unit it means: {"%": "percent", ...}."""
    return {t(f"measure_{unit}", lang): unit for unit in MEASURES}


def measure_unit(word, lang: str) -> str | None:
    """The unit a `measure` cell names in the workbook's language ("%", "元", "count" ...),
    compared as Excel's = compares text (case aside); None for a blank or a word that names
    none (the block's own unit applies, as the workbook's conditional formats do)."""
    if not isinstance(word, str) or not word:
        return None
    for shown, unit in measure_words(lang).items():
        if shown.casefold() == word.casefold():
            return unit
    return None


def month(m: int, lang: str) -> str:
    """The name of month `m` (1-12)."""
    return t(f"month_{m}", lang)


def quarter(q: int, lang: str) -> str:
    return t(f"quarter_{q}", lang)


def _months() -> dict:
    en = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    return {f"month_{m}": {"zh-Hans": f"{m}月", "zh-Hant": f"{m}月", "en": en[m - 1]} for m in range(1, 13)}


def _quarters() -> dict:
    zh = "一二三四"
    return {f"quarter_{q}": {"zh-Hans": f"第{zh[q - 1]}季", "zh-Hant": f"第{zh[q - 1]}季", "en": f"Q{q}"}
            for q in range(1, 5)}


TEXTS: dict[str, dict[str, str]] = {
    **_months(),
    **_quarters(),
    # -- the generated workbook ----------------------------------------------------------
    "legend": {"zh-Hans": "黄色格填写；灰色格由总部下达；白色格自动计算；蓝色格为合计",
               "zh-Hant": "黃色格填寫；灰色格由總公司下達；白色格自動計算；藍色格為合計",
               "en": "Fill in the yellow cells; grey cells come from HQ; white cells are computed; blue cells are totals"},
    "unit_of_measure": {"zh-Hans": "计量单位", "zh-Hant": "計量單位", "en": "Measured in"},
    "year": {"zh-Hans": "全年", "zh-Hant": "全年", "en": "Year"},
    "total": {"zh-Hans": "合计", "zh-Hant": "合計", "en": "Total"},
    "page_footer": {"zh-Hans": "第 &P 页，共 &N 页", "zh-Hant": "第 &P 頁，共 &N 頁", "en": "Page &P of &N"},
    "invalid": {"zh-Hans": "输入不正确", "zh-Hant": "輸入不正確", "en": "Invalid entry"},
    "choose_from_list": {"zh-Hans": "请从清单中选择。", "zh-Hant": "請從清單中選擇。", "en": "Choose a value from the list."},
    "month_1_12": {"zh-Hans": "请输入 1 到 12 的月份。", "zh-Hant": "請輸入 1 到 12 的月份。", "en": "Enter a month from 1 to 12."},
    "number_at_least": {"zh-Hans": "请输入不小于 {lo} 的数字。", "zh-Hant": "請輸入不小於 {lo} 的數字。",
                        "en": "Enter a number of at least {lo}."},
    "number_between": {"zh-Hans": "请输入 {lo} 到 {hi} 之间的数字。", "zh-Hant": "請輸入 {lo} 到 {hi} 之間的數字。",
                       "en": "Enter a number from {lo} to {hi}."},
    "share_between": {"zh-Hans": "请输入 0% 到 100% 之间的比例。", "zh-Hant": "請輸入 0% 到 100% 之間的比例。",
                      "en": "Enter a share from 0% to 100%."},
    # units of measure, as a column of the sheets shows them
    "uom_yuan": {"zh-Hans": "元", "zh-Hant": "元", "en": "yuan"},
    "uom_wan": {"zh-Hans": "万元", "zh-Hant": "萬元", "en": "10k yuan"},
    "uom_percent": {"zh-Hans": "%", "zh-Hant": "%", "en": "%"},
    "uom_score": {"zh-Hans": "分", "zh-Hant": "分", "en": "points"},
    "uom_seconds": {"zh-Hans": "秒", "zh-Hant": "秒", "en": "s"},
    "uom_month": {"zh-Hans": "月", "zh-Hant": "月", "en": "month"},
    "uom_count": {"zh-Hans": "人/件", "zh-Hant": "人/件", "en": "count"},
    # what a `measure` cell offers: the unit of measure of the number beside it (model.MEASURES)
    "measure_number": {"zh-Hans": "数值", "zh-Hant": "數值", "en": "number"},
    "measure_percent": {"zh-Hans": "%", "zh-Hant": "%", "en": "%"},
    "measure_count": {"zh-Hans": "人/件", "zh-Hant": "人/件", "en": "count"},
    "measure_yuan": {"zh-Hans": "元", "zh-Hant": "元", "en": "yuan"},
    "measure_wan": {"zh-Hans": "万元", "zh-Hant": "萬元", "en": "10k yuan"},
    "measure_seconds": {"zh-Hans": "秒", "zh-Hant": "秒", "en": "seconds"},
    # -- the Checks sheet --------------------------------------------------------------------
    "checks_sheet": {"zh-Hans": "检查", "zh-Hant": "檢查", "en": "Checks"},
    "checks_note": {"zh-Hans": "按“重新计算”后，这里列出每一项需要注意的地方；点击单元格可跳到该格。",
                    "zh-Hant": "按「重新計算」後，這裡列出每一項需要注意的地方；點選儲存格可跳到該格。",
                    "en": "Press Recalculate: every finding is listed here; click a cell to jump to it."},
    "col_message": {"zh-Hans": "说明", "zh-Hant": "說明", "en": "What to look at"},
    "col_where": {"zh-Hans": "工作表", "zh-Hant": "工作表", "en": "Sheet"},
    "col_cell": {"zh-Hans": "单元格", "zh-Hant": "儲存格", "en": "Cell"},
    "col_severity": {"zh-Hans": "级别", "zh-Hant": "等級", "en": "Severity"},
    "col_code": {"zh-Hans": "代码", "zh-Hant": "代碼", "en": "Code"},
    "error": {"zh-Hans": "错误", "zh-Hant": "錯誤", "en": "error"},
    "warning": {"zh-Hans": "警告", "zh-Hant": "警告", "en": "warning"},
    "info": {"zh-Hans": "提示", "zh-Hant": "提示", "en": "note"},
    "no_findings": {"zh-Hans": "没有发现问题。", "zh-Hant": "沒有發現問題。", "en": "No findings."},
    # -- the Instructions sheet ------------------------------------------------------------
    "instructions_sheet": {"zh-Hans": "填写说明", "zh-Hant": "填寫說明", "en": "Instructions"},
    "ins_what": {"zh-Hans": "要填什么", "zh-Hant": "要填什麼", "en": "What to fill in"},
    "ins_what_text": {"zh-Hans": "只填黄色格。每张工作表上方写着它的用途；表格（市场、行动、人员）可以插入行。"
                                 "没有的项目留空，不要填 0。",
                      "zh-Hant": "只填黃色格。每張工作表上方寫著它的用途；表格（市場、行動、人員）可以插入列。"
                                 "沒有的項目留空，不要填 0。",
                      "en": "Fill in the yellow cells only. Each sheet says at its top what it is for; tables "
                            "(markets, actions, staff) take inserted rows. Leave a cell empty where there is "
                            "nothing, rather than typing 0."},
    "ins_colours": {"zh-Hans": "颜色的意思", "zh-Hant": "顏色的意思", "en": "What the colours mean"},
    "ins_input": {"zh-Hans": "由您填写", "zh-Hant": "由您填寫", "en": "you fill it in"},
    "ins_given": {"zh-Hans": "总部下达，不能修改", "zh-Hant": "總公司下達，不能修改", "en": "set by HQ, locked"},
    "ins_computed": {"zh-Hans": "自动计算，不能修改", "zh-Hant": "自動計算，不能修改", "en": "computed, locked"},
    "ins_total": {"zh-Hans": "合计（自动计算）", "zh-Hant": "合計（自動計算）", "en": "a total (computed)"},
    "ins_error": {"zh-Hans": "有错误：见「检查」工作表", "zh-Hant": "有錯誤：見「檢查」工作表",
                  "en": "an error: see the Checks sheet"},
    "ins_warning": {"zh-Hans": "请留意：见「检查」工作表", "zh-Hant": "請留意：見「檢查」工作表",
                    "en": "a warning: see the Checks sheet"},
    "ins_sample": {"zh-Hans": "示例", "zh-Hant": "範例", "en": "Sample"},
    "ins_recalc": {"zh-Hans": "怎样重新计算", "zh-Hant": "怎樣重新計算", "en": "How to recalculate"},
    "ins_recalc_text": {"zh-Hans": "在 Excel 中按功能区的“重新计算”按钮；没有加载项时（WPS、LibreOffice）公式照样计算，"
                                   "检查请交给总部，或在命令行执行 xlplan recalc 文件名.xlsx。"
                                   "结果列在「检查」工作表，有问题的格子会标上颜色和批注。",
                        "zh-Hant": "在 Excel 中按功能區的「重新計算」按鈕；沒有增益集時（WPS、LibreOffice）公式照樣計算，"
                                   "檢查請交給總公司，或在命令列執行 xlplan recalc 檔名.xlsx。"
                                   "結果列在「檢查」工作表，有問題的儲存格會標上顏色和註解。",
                        "en": "In Excel press the Recalculate button on the ribbon. Without the add-in (WPS, "
                              "LibreOffice) the formulas still compute; for the checks send the file to HQ or run "
                              "xlplan recalc FILE.xlsx. Findings are listed on the Checks sheet and their cells "
                              "are coloured and carry a note."},
    "ins_deadline": {"zh-Hans": "截止日期", "zh-Hant": "截止日期", "en": "Due"},
    "ins_contact": {"zh-Hans": "有问题请问", "zh-Hant": "有問題請洽", "en": "Questions to"},
    "ins_not_set": {"zh-Hans": "（总部未指定）", "zh-Hant": "（總公司未指定）", "en": "(not set by HQ)"},
    "ins_sheets": {"zh-Hans": "各工作表", "zh-Hant": "各工作表", "en": "The sheets"},
    "ins_purpose": {"zh-Hans": "考核目的", "zh-Hant": "考核目的", "en": "Purpose of the appraisal"},
    "ins_purpose_text": {"zh-Hans": "每月按同一方案衡量每个人的工作成果，肯定做得好的，找出需要改进的，作为辅导和奖励的依据。",
                         "zh-Hant": "每月按同一方案衡量每個人的工作成果，肯定做得好的，找出需要改進的，作為輔導和獎勵的依據。",
                         "en": "To measure everyone's work each month by one scheme: recognise what went well, "
                               "find what needs improving, and base coaching and rewards on it."},
    "ins_principles": {"zh-Hans": "考核原则", "zh-Hant": "考核原則", "en": "Principles"},
    "ins_principles_text": {"zh-Hans": "公开：方案、指标和权重事先公布；公平：同一月份各组用同一方案；"
                                       "客观：以数据为主，主管评分只用于手工评分的指标；沟通：评分后与本人面谈。",
                            "zh-Hant": "公開：方案、指標和權重事先公布；公平：同一月份各組用同一方案；"
                                       "客觀：以數據為主，主管評分只用於手工評分的指標；溝通：評分後與本人面談。",
                            "en": "Open: the scheme, indicators and weights are known beforehand. Fair: every "
                                  "team is scored by the same scheme in a month. Objective: figures first; the "
                                  "supervisor scores only the indicators marked manual. Talked through: after "
                                  "scoring, the supervisor talks with each person."},
    "ins_process": {"zh-Hans": "考核流程", "zh-Hant": "考核流程", "en": "Process"},
    "ins_process_text": {"zh-Hans": "1. 主管与组员了解考核方案；2. 每人填写自评总分；3. 主管填入基础数据与手工评分，"
                                    "按“重新计算”；4. 主管与每个人面谈结果；5. 提交总部。",
                         "zh-Hant": "1. 主管與組員了解考核方案；2. 每人填寫自評總分；3. 主管填入基礎數據與手工評分，"
                                    "按「重新計算」；4. 主管與每個人面談結果；5. 提交總公司。",
                         "en": "1. Supervisor and staff learn the scheme. 2. Each person enters a self-evaluation. "
                               "3. The supervisor enters the figures and the manual scores and presses Recalculate. "
                               "4. The supervisor talks the result through with each person. 5. Submit to HQ."},
    # -- findings (the engine's own messages) ---------------------------------------------------
    "too_little": {"zh-Hans": "少 {diff}", "zh-Hant": "少 {diff}", "en": "{diff} too little"},
    "too_much": {"zh-Hans": "多 {diff}", "zh-Hant": "多 {diff}", "en": "{diff} too much"},
    "template_version": {"zh-Hans": "此工作簿用模板 {template} 版本 {found} 制作，目前的版本是 {expected}；请向总部索取新版工作簿",
                         "zh-Hant": "此活頁簿用範本 {template} 版本 {found} 製作，目前的版本是 {expected}；請向總公司索取新版活頁簿",
                         "en": "this workbook was made with {template} version {found}; the current version is {expected}: ask HQ for a new workbook"},
    "template_older": {"zh-Hans": "此工作簿用模板 {template} 的旧版本 {found} 制作，仍按该版本读取与检查；目前的版本是 {current}，下一期请用新版工作簿",
                       "zh-Hant": "此活頁簿用範本 {template} 的舊版本 {found} 製作，仍按該版本讀取與檢查；目前的版本是 {current}，下一期請用新版活頁簿",
                       "en": "this workbook was made with the earlier version {found} of {template} and is read and checked as that version; the current version is {current}: use a new workbook next cycle"},
    "name_missing": {"zh-Hans": "找不到“{label}”（名称 {name}）：可能被删除或改名",
                     "zh-Hant": "找不到「{label}」（名稱 {name}）：可能被刪除或改名",
                     "en": "cannot find “{label}” (name {name}): it was deleted or renamed"},
    "block_shape": {"zh-Hans": "“{label}”应有 {expected} 格，现在是 {found}：块内的行或列被插入或删除",
                    "zh-Hant": "「{label}」應有 {expected} 格，現在是 {found}：區塊內的列或欄被插入或刪除",
                    "en": "“{label}” should be {expected} cells, found {found}: rows or columns were inserted or deleted inside it"},
    "table_missing": {"zh-Hans": "找不到表格“{label}”（{table}）", "zh-Hant": "找不到表格「{label}」（{table}）",
                      "en": "cannot find the table “{label}” ({table})"},
    "column_renamed": {"zh-Hans": "栏位应为“{expected}”，现在是“{found}”；按位置读取",
                       "zh-Hant": "欄位應為「{expected}」，現在是「{found}」；按位置讀取",
                       "en": "the column should be “{expected}”, found “{found}”; read by position"},
    "column_missing": {"zh-Hans": "表格 {table} 缺少栏位“{label}”", "zh-Hant": "表格 {table} 缺少欄位「{label}」",
                       "en": "the table {table} has no column “{label}”"},
    "not_number": {"zh-Hans": "“{label}”应填数字，这里是文字“{value}”，无法计算",
                   "zh-Hant": "「{label}」應填數字，這裡是文字「{value}」，無法計算",
                   "en": "“{label}” takes a number; found the text “{value}”, which cannot be computed"},
    "text_read_as_number": {"zh-Hans": "“{label}”的“{value}”是文字，已按数字 {number} 计算；请重新输入为数字",
                            "zh-Hant": "「{label}」的「{value}」是文字，已按數字 {number} 計算；請重新輸入為數字",
                            "en": "“{label}”: “{value}” is text; computed as the number {number}: retype it as a number"},
    "date_not_number": {"zh-Hans": "“{label}”应填数字，这里是日期 {value}", "zh-Hant": "「{label}」應填數字，這裡是日期 {value}",
                        "en": "“{label}” takes a number; found the date {value}"},
    "year_invalid": {"zh-Hans": "工作簿记录的年度“{value}”不是 1900 到 2200 之间的整数；请向总部索取新版工作簿",
                     "zh-Hant": "活頁簿記錄的年度「{value}」不是 1900 到 2200 之間的整數；請向總部索取新版活頁簿",
                     "en": "the workbook's year “{value}” is not a whole number from 1900 to 2200; ask HQ for a new workbook"},
    "period_invalid": {"zh-Hans": "工作簿记录的期间“{value}”不是 {year} 年或其中的月份（YYYY-MM）；请向总部索取新版工作簿",
                       "zh-Hant": "活頁簿記錄的期間「{value}」不是 {year} 年或其中的月份（YYYY-MM）；請向總部索取新版活頁簿",
                       "en": "the workbook's period “{value}” is neither the year {year} nor one of its months (YYYY-MM); ask HQ for a new workbook"},
    "unit_missing": {"zh-Hans": "工作簿没有记录单位：无法归入任何单位；请向总部索取本单位的工作簿",
                     "zh-Hant": "活頁簿沒有記錄單位：無法歸入任何單位；請向總部索取本單位的活頁簿",
                     "en": "the workbook names no unit, so it belongs to none; ask HQ for your unit's workbook"},
    "unit_mismatch": {"zh-Hans": "封面的单位“{cover}”与工作簿记录的单位“{meta}”不同；请使用总部发给本单位的工作簿",
                      "zh-Hant": "封面的單位「{cover}」與活頁簿記錄的單位「{meta}」不同；請使用總部發給本單位的活頁簿",
                      "en": "the cover names the unit “{cover}” but the workbook was made for “{meta}”; use the workbook HQ made for your unit"},
    "given_changed": {"zh-Hans": "“{label}”由总部下达为 {issued}，工作簿里却是 {found}：总部的数字不能修改",
                      "zh-Hant": "「{label}」由總公司下達為 {issued}，活頁簿裡卻是 {found}：總公司的數字不能修改",
                      "en": "“{label}” was set by HQ to {issued}, but the workbook shows {found}: HQ's figures cannot be changed"},
    "issued_damaged": {"zh-Hans": "工作簿中总部下达内容的记录已损坏；请向总部索取新版工作簿",
                       "zh-Hant": "活頁簿中總公司下達內容的記錄已損壞；請向總公司索取新版活頁簿",
                       "en": "the workbook's record of what HQ issued is damaged; ask HQ for a new workbook"},
    "signature_mismatch": {"zh-Hans": "总部的签名与工作簿记录不符：模板、参数、单位或总部下达的数字在发出后被修改过",
                           "zh-Hant": "總公司的簽章與活頁簿記錄不符：範本、參數、單位或總公司下達的數字在發出後被修改過",
                           "en": "HQ's signature does not match the workbook's record: the template, parameters, unit or HQ's figures were changed after HQ issued it"},
    "not_signed": {"zh-Hans": "工作簿没有总部的签名，无法核实总部下达的数字",
                   "zh-Hant": "活頁簿沒有總公司的簽章，無法核實總公司下達的數字",
                   "en": "the workbook carries no HQ signature, so HQ's figures in it cannot be verified"},
    "not_verified": {"zh-Hans": "未设置总部密钥（XLPLAN_HQ_SECRET），签名未核实；只核对了灰色格与工作簿内的记录",
                     "zh-Hant": "未設定總公司金鑰（XLPLAN_HQ_SECRET），簽章未核實；只核對了灰色格與活頁簿內的記錄",
                     "en": "no HQ secret is set (XLPLAN_HQ_SECRET), so the signature was not verified; the grey cells were checked against the workbook's own record only"},
    "too_large": {"zh-Hans": "“{label}”的 {value} 超出计划数字的范围（绝对值须小于 10^15），无法计算；请检查输入",
                  "zh-Hant": "「{label}」的 {value} 超出計劃數字的範圍（絕對值須小於 10^15），無法計算；請檢查輸入",
                  "en": "“{label}”: {value} is beyond any plan figure (it must be below 10^15 in size) and cannot be computed; check the entry"},
    "not_whole": {"zh-Hans": "“{label}”是人数或次数，应为整数，这里是 {value}",
                  "zh-Hant": "「{label}」是人數或次數，應為整數，這裡是 {value}",
                  "en": "“{label}” counts people or times and must be a whole number; found {value}"},
    "overflow": {"zh-Hans": "“{label}”的计算结果超出数字范围（溢出）；请检查参与计算的输入",
                 "zh-Hant": "「{label}」的計算結果超出數字範圍（溢位）；請檢查參與計算的輸入",
                 "en": "“{label}”: the result overflows the range of numbers; check the inputs it is computed from"},
    "negative": {"zh-Hans": "“{label}”不能小于 {lo}，这里是 {value}", "zh-Hant": "「{label}」不能小於 {lo}，這裡是 {value}",
                 "en": "“{label}” cannot be below {lo}; found {value}"},
    "above_max": {"zh-Hans": "“{label}”不能大于 {hi}，这里是 {value}", "zh-Hant": "「{label}」不能大於 {hi}，這裡是 {value}",
                  "en": "“{label}” cannot be above {hi}; found {value}"},
    "share_range": {"zh-Hans": "“{label}”是比例，应在 0% 到 100% 之间，这里是 {value}",
                    "zh-Hant": "「{label}」是比例，應在 0% 到 100% 之間，這裡是 {value}",
                    "en": "“{label}” is a share and must be from 0% to 100%; found {value}"},
    "month_range": {"zh-Hans": "“{label}”应为 1 到 12 的月份，这里是 {value}", "zh-Hant": "「{label}」應為 1 到 12 的月份，這裡是 {value}",
                    "en": "“{label}” must be a month from 1 to 12; found {value}"},
    "not_in_list": {"zh-Hans": "“{label}”的“{value}”不在清单中（{choices}）", "zh-Hant": "「{label}」的「{value}」不在清單中（{choices}）",
                    "en": "“{label}”: “{value}” is not in the list ({choices})"},
    "missing": {"zh-Hans": "“{label}”未填写（{count} 格空白）", "zh-Hant": "「{label}」未填寫（{count} 格空白）",
                "en": "“{label}” is not filled in ({count} empty)"},
    "sheet_missing": {"zh-Hans": "找不到工作表“{sheet}”（可能被删除，或改名后名称未随之更新）：其中 {count} 项无法读取（{labels}）",
                      "zh-Hant": "找不到工作表「{sheet}」（可能被刪除，或改名後名稱未隨之更新）：其中 {count} 項無法讀取（{labels}）",
                      "en": "cannot find the sheet “{sheet}” (deleted, or renamed without its names): {count} items cannot be read ({labels})"},
    "sheet_renamed": {"zh-Hans": "工作表“{sheet}”已改名为“{now}”；已按名称读取，无需处理",
                      "zh-Hant": "工作表「{sheet}」已改名為「{now}」；已按名稱讀取，無需處理",
                      "en": "the sheet “{sheet}” was renamed “{now}”; read by its names, nothing to do"},
    "merged_cells": {"zh-Hans": "“{label}”的 {cells} 被合并，只有第一格的数字会被读取；请取消合并后逐格填写",
                     "zh-Hant": "「{label}」的 {cells} 被合併，只有第一格的數字會被讀取；請取消合併後逐格填寫",
                     "en": "“{label}”: the cells {cells} are merged, so only the first one keeps a value; unmerge them and fill in each cell"},
    "circular": {"zh-Hans": "“{label}”的公式 {formula} 引用了自己（循环引用），无法计算；请输入数字",
                 "zh-Hant": "「{label}」的公式 {formula} 參照了自己（循環參照），無法計算；請輸入數字",
                 "en": "“{label}”: the formula {formula} refers to its own cell (a circular reference) and cannot be computed; type a number"},
    "error_value": {"zh-Hans": "“{label}”是 Excel 错误值 {value}（引用失效或公式出错）；请输入正确的值",
                    "zh-Hant": "「{label}」是 Excel 錯誤值 {value}（參照失效或公式出錯）；請輸入正確的值",
                    "en": "“{label}” holds the Excel error {value} (a broken reference or formula); type the right value"},
    "formula_no_result": {"zh-Hans": "“{label}”的公式 {formula} 没有保存计算结果（由不会计算的程序写入），xlplan 也无法计算（{why}）；请在 Excel、WPS 或 LibreOffice 中打开并保存，或直接输入数字",
                          "zh-Hant": "「{label}」的公式 {formula} 沒有儲存計算結果（由不會計算的程式寫入），xlplan 也無法計算（{why}）；請在 Excel、WPS 或 LibreOffice 中開啟並儲存，或直接輸入數字",
                          "en": "“{label}”: the formula {formula} was saved without its result (by a program that does not calculate) and xlplan cannot compute it ({why}); open and save the workbook in Excel, WPS or LibreOffice, or type the number"},
    "formula_computed": {"zh-Hans": "“{label}”的公式 {formula} 没有保存计算结果（由不会计算的程序写入）；xlplan 已算出 {value}",
                         "zh-Hant": "「{label}」的公式 {formula} 沒有儲存計算結果（由不會計算的程式寫入）；xlplan 已算出 {value}",
                         "en": "“{label}”: the formula {formula} was saved without its result (by a program that does not calculate); xlplan computed {value}"},
    "formula_overwritten": {"zh-Hans": "“{label}”是自动计算的格子：这里{what}，xlplan 不采用，仍按模板公式计算；请改黄色的输入格",
                            "zh-Hant": "「{label}」是自動計算的儲存格：這裡{what}，xlplan 不採用，仍按範本公式計算；請改黃色的輸入格",
                            "en": "“{label}” is computed: {what} here, which xlplan does not use; it computes the cell by the template's formula. Change the yellow input cells instead"},
    "typed_value": {"zh-Hans": "填入了 {value}", "zh-Hant": "填入了 {value}", "en": "the value {value} was typed"},
    "typed_formula": {"zh-Hans": "公式被改为 {formula}", "zh-Hant": "公式被改為 {formula}", "en": "the formula was changed to {formula}"},
    "cleared": {"zh-Hans": "公式被删除", "zh-Hant": "公式被刪除", "en": "the formula was deleted"},
    "missing_in_row": {"zh-Hans": "此行已填写，但“{label}”空白", "zh-Hant": "此列已填寫，但「{label}」空白",
                       "en": "this row is filled in but “{label}” is empty"},
    "check_total": {"zh-Hans": "各项合计 {actual}，总数 {expected}（{diff}）", "zh-Hant": "各項合計 {actual}，總數 {expected}（{diff}）",
                    "en": "parts add up to {actual} but the total is {expected} ({diff})"},
    "check_stated": {"zh-Hans": "填报 {stated}，但 {quantity} × {unit_cost} × {times} = {computed}（{diff}）",
                     "zh-Hant": "填報 {stated}，但 {quantity} × {unit_cost} × {times} = {computed}（{diff}）",
                     "en": "stated {stated} but {quantity} × {unit_cost} × {times} = {computed} ({diff})"},
    # -- the add-in's messages ---------------------------------------------------------------
    "summary_counts": {"zh-Hans": "{error} 个错误，{warning} 个警告，{info} 个提示。",
                       "zh-Hant": "{error} 個錯誤，{warning} 個警告，{info} 個提示。",
                       "en": "{error} errors, {warning} warnings, {info} notes."},
    "summary_written": {"zh-Hans": "已更新 {written} 个计算格。", "zh-Hant": "已更新 {written} 個計算儲存格。",
                        "en": " {written} computed cells updated."},
    "summary_see_checks": {"zh-Hans": "详见「检查」工作表。", "zh-Hant": "詳見「檢查」工作表。",
                           "en": " See the Checks sheet."},
    "submit_wrong_unit": {"zh-Hans": "此工作簿属于 {owner}，您登录的单位是 {session}，不能提交。",
                          "zh-Hant": "此活頁簿屬於 {owner}，您登入的單位是 {session}，不能提交。",
                          "en": "This workbook belongs to {owner}; you are signed in for {session}, so it cannot be submitted."},
    "submit_no_server": {"zh-Hans": "未设定总部服务器，无法提交。", "zh-Hant": "未設定總公司伺服器，無法提交。",
                         "en": "No HQ server is configured for submissions."},
    "receipt": {"zh-Hans": "已提交：{unit} {period}，第 {version} 版，回执 {id}（{received}）。{error} 个错误，{warning} 个警告。",
                "zh-Hant": "已提交：{unit} {period}，第 {version} 版，回執 {id}（{received}）。{error} 個錯誤，{warning} 個警告。",
                "en": "Submitted: {unit} {period}, version {version}, receipt {id} ({received}). {error} errors, {warning} warnings."},
    # -- HQ: submission status (workbook sheet and HTML page) -----------------------------------
    "st_missing": {"zh-Hans": "未交", "zh-Hant": "未交", "en": "missing"},
    "st_rejected": {"zh-Hans": "退回", "zh-Hant": "退回", "en": "rejected"},
    "st_late": {"zh-Hans": "逾期", "zh-Hant": "逾期", "en": "late"},
    "st_accepted": {"zh-Hans": "已收", "zh-Hant": "已收", "en": "accepted"},
    "st_unexpected": {"zh-Hans": "名单外", "zh-Hant": "名單外", "en": "unexpected"},
    "status_title": {"zh-Hans": "提交状态", "zh-Hant": "提交狀態", "en": "Submission status"},
    "made_at": {"zh-Hans": "生成时间", "zh-Hant": "產生時間", "en": "Made"},
    "expected": {"zh-Hans": "应交", "zh-Hant": "應交", "en": "expected"},
    "unreadable": {"zh-Hans": "无法读取的文件", "zh-Hant": "無法讀取的檔案", "en": "files that are not xlplan workbooks"},
    "units": {"zh-Hans": "各单位", "zh-Hant": "各單位", "en": "Units"},
    "latest": {"zh-Hans": "最新", "zh-Hant": "最新", "en": "latest"},
    "several_files": {"zh-Hans": "多个文件：", "zh-Hant": "多個檔案：", "en": "files: "},
    "why": {"zh-Hans": "原因", "zh-Hant": "原因", "en": "Why"},
    "findings_of": {"zh-Hans": "最新一版的问题", "zh-Hant": "最新一版的問題", "en": "Findings of the latest file"},
    "template_version_short": {"zh-Hans": "模板版本", "zh-Hant": "範本版本", "en": "template version"},
    # -- HQ: the consolidated workbook -------------------------------------------------------
    "c_status": {"zh-Hans": "状态", "zh-Hant": "狀態", "en": "Status"},
    "c_status_col": {"zh-Hans": "状态", "zh-Hant": "狀態", "en": "Status"},
    "c_total": {"zh-Hans": "合计", "zh-Hant": "合計", "en": "Total"},
    "c_plan": {"zh-Hans": "月度计划", "zh-Hant": "月度計劃", "en": "Plan by month"},
    "c_regions": {"zh-Hans": "区域", "zh-Hant": "區域", "en": "Regions"},
    "c_headcount": {"zh-Hans": "人力", "zh-Hant": "人力", "en": "Headcount"},
    "c_budget": {"zh-Hans": "预算", "zh-Hant": "預算", "en": "Budget"},
    "c_gap": {"zh-Hans": "目标差距", "zh-Hant": "目標差距", "en": "Top-down gap"},
    "c_actual": {"zh-Hans": "计划与实绩", "zh-Hant": "計劃與實績", "en": "Plan vs actual"},
    "c_scores": {"zh-Hans": "考核排名", "zh-Hant": "考核排名", "en": "Scorecards"},
    "c_grades": {"zh-Hans": "等级分布", "zh-Hant": "等級分佈", "en": "Grades"},
    "c_unit": {"zh-Hans": "单位", "zh-Hant": "單位", "en": "Unit"},
    "c_period": {"zh-Hans": "期间", "zh-Hant": "期間", "en": "Period"},
    "c_region": {"zh-Hans": "区域", "zh-Hant": "區域", "en": "Region"},
    "c_month": {"zh-Hans": "月份", "zh-Hant": "月份", "en": "Month"},
    "c_strategy": {"zh-Hans": "策略", "zh-Hant": "策略", "en": "Strategy"},
    "c_no_strategy": {"zh-Hans": "（未选策略）", "zh-Hant": "（未選策略）", "en": "(no strategy)"},
    "c_hq_target": {"zh-Hans": "总部目标（万元）", "zh-Hant": "總公司目標（萬元）", "en": "HQ target (10k yuan)"},
    "c_year_target": {"zh-Hans": "单位年度目标（万元）", "zh-Hant": "單位年度目標（萬元）", "en": "Unit's annual target (10k yuan)"},
    "c_months_sum": {"zh-Hans": "十二个月合计（万元）", "zh-Hant": "十二個月合計（萬元）", "en": "Twelve months (10k yuan)"},
    "c_gap_value": {"zh-Hans": "差距：月度合计 − 总部目标", "zh-Hant": "差距：月度合計 − 總公司目標", "en": "Gap: months − HQ target"},
    "c_plan_wan": {"zh-Hans": "计划（万元）", "zh-Hant": "計劃（萬元）", "en": "Plan (10k yuan)"},
    "c_actual_wan": {"zh-Hans": "实绩（万元）", "zh-Hant": "實績（萬元）", "en": "Actual (10k yuan)"},
    "c_achievement": {"zh-Hans": "达成率", "zh-Hant": "達成率", "en": "Achievement"},
    "c_plan_to_date": {"zh-Hans": "已有实绩月份的计划（万元）", "zh-Hant": "已有實績月份的計劃（萬元）",
                       "en": "Plan for months with actual (10k yuan)"},
    "c_variance": {"zh-Hans": "差异（万元）", "zh-Hant": "差異（萬元）", "en": "Variance (10k yuan)"},
    "c_opening": {"zh-Hans": "去年年底人力", "zh-Hant": "去年年底人力", "en": "Opening headcount"},
    "c_recruits": {"zh-Hans": "全年增员", "zh-Hant": "全年增員", "en": "Recruits"},
    "c_attrition": {"zh-Hans": "全年脱落", "zh-Hant": "全年脫落", "en": "Attrition"},
    "c_closing": {"zh-Hans": "年底人力", "zh-Hant": "年底人力", "en": "Closing headcount"},
    "c_budget_total": {"zh-Hans": "预算合计（元）", "zh-Hant": "預算合計（元）", "en": "Budget total (yuan)"},
    "c_team": {"zh-Hans": "小组", "zh-Hant": "小組", "en": "Team"},
    "c_name": {"zh-Hans": "姓名", "zh-Hant": "姓名", "en": "Name"},
    "c_group": {"zh-Hans": "组别", "zh-Hant": "組別", "en": "Group"},
    "c_score": {"zh-Hans": "总分", "zh-Hant": "總分", "en": "Total"},
    "c_team_rank": {"zh-Hans": "组内排名", "zh-Hant": "組內排名", "en": "Rank in team"},
    "c_overall_rank": {"zh-Hans": "总排名", "zh-Hant": "總排名", "en": "Overall rank"},
    "c_grade": {"zh-Hans": "等级", "zh-Hant": "等級", "en": "Grade"},
    "c_template": {"zh-Hans": "模板", "zh-Hant": "範本", "en": "Template"},
    "c_due": {"zh-Hans": "截止", "zh-Hant": "截止", "en": "Due"},
    "c_received": {"zh-Hans": "收到时间", "zh-Hant": "收到時間", "en": "Received"},
    "c_version": {"zh-Hans": "采用版本", "zh-Hant": "採用版本", "en": "Version used"},
    "c_files": {"zh-Hans": "文件数", "zh-Hant": "檔案數", "en": "Files"},
    "c_errors": {"zh-Hans": "错误", "zh-Hant": "錯誤", "en": "Errors"},
    "c_warnings": {"zh-Hans": "警告", "zh-Hant": "警告", "en": "Warnings"},
    "c_file": {"zh-Hans": "文件", "zh-Hant": "檔案", "en": "File"},
    "c_first_finding": {"zh-Hans": "首个错误", "zh-Hant": "第一個錯誤", "en": "First error"},
    "c_sha": {"zh-Hans": "SHA-256", "zh-Hant": "SHA-256", "en": "SHA-256"},
    "c_submitter": {"zh-Hans": "提交人", "zh-Hant": "提交人", "en": "Submitter"},
    "c_title": {"zh-Hans": "合并计划", "zh-Hant": "合併計劃", "en": "Consolidated plan"},
    "c_plan_title": {"zh-Hans": "月度计划（万元）", "zh-Hant": "月度計劃（萬元）", "en": "Plan by month (10k yuan)"},
    "c_regions_title": {"zh-Hans": "区域（万元）", "zh-Hant": "區域（萬元）", "en": "Regions (10k yuan)"},
    "c_chart_plan": {"zh-Hans": "每月计划与实绩（万元）", "zh-Hant": "每月計劃與實績（萬元）", "en": "Monthly plan and actual (10k yuan)"},
    "c_chart_budget": {"zh-Hans": "各策略预算（元）", "zh-Hant": "各策略預算（元）", "en": "Budget by strategy (yuan)"},
    "c_none": {"zh-Hans": "尚无已接受的提交。", "zh-Hant": "尚無已接受的提交。", "en": "No accepted submission yet."},
    "c_times_local": {"zh-Hans": "时间为 {zone} 时间", "zh-Hant": "時間為 {zone} 時間", "en": "Times in {zone}"},
    # -- HQ: consolidation views and the review (xlplan/hq) ------------------------------------
    "cv_blank": {"zh-Hans": "（空白）", "zh-Hant": "（空白）", "en": "(blank)"},
    "cv_plan": {"zh-Hans": "计划", "zh-Hant": "計劃", "en": "Plan"},
    "cv_actual": {"zh-Hans": "实绩", "zh-Hant": "實績", "en": "Actual"},
    "cv_variance": {"zh-Hans": "差异", "zh-Hant": "差異", "en": "Variance"},
    "cv_ytd_plan": {"zh-Hans": "累计计划", "zh-Hant": "累計計劃", "en": "Plan YTD"},
    "cv_ytd_actual": {"zh-Hans": "累计实绩", "zh-Hant": "累計實績", "en": "Actual YTD"},
    "cv_ytd_achievement": {"zh-Hans": "累计达成率", "zh-Hant": "累計達成率", "en": "Achievement YTD"},
    "cv_plan_year": {"zh-Hans": "全年计划", "zh-Hant": "全年計劃", "en": "Plan, year"},
    "cv_source": {"zh-Hans": "实绩来源", "zh-Hant": "實績來源", "en": "Actual from"},
    "cv_imported": {"zh-Hans": "导入", "zh-Hant": "導入", "en": "imported"},
    "cv_typed": {"zh-Hans": "填报", "zh-Hant": "填報", "en": "typed"},
    "cv_gap": {"zh-Hans": "差距", "zh-Hant": "差距", "en": "Gap"},
    "cv_average": {"zh-Hans": "平均", "zh-Hant": "平均", "en": "Average"},
    "cv_year_person": {"zh-Hans": "全年：每人每月总分", "zh-Hant": "全年：每人每月總分", "en": "Year: each person's total by month"},
    "cv_year_team": {"zh-Hans": "全年：每组每月平均分", "zh-Hant": "全年：每組每月平均分", "en": "Year: each team's average by month"},
    "cv_review": {"zh-Hans": "审核", "zh-Hant": "審核", "en": "Review"},
    "cv_segment": {"zh-Hans": "分层", "zh-Hant": "分層", "en": "Segment"},
    "cv_members": {"zh-Hans": "计划数", "zh-Hant": "計劃數", "en": "Plans"},
    "rv_received": {"zh-Hans": "已收到", "zh-Hant": "已收到", "en": "received"},
    "rv_checked": {"zh-Hans": "待审核", "zh-Hant": "待審核", "en": "checked"},
    "rv_approved": {"zh-Hans": "已批准", "zh-Hant": "已通過", "en": "approved"},
    "rv_returned": {"zh-Hans": "已退回修改", "zh-Hant": "已退回修改", "en": "returned"},
    # -- HQ's web page (xlplan/hq/web.py) ----------------------------------------------------
    "w_title": {"zh-Hans": "总部审核", "zh-Hant": "總公司審核", "en": "HQ review"},
    "w_reviewer": {"zh-Hans": "审核人", "zh-Hant": "審核人", "en": "Reviewer"},
    "w_password": {"zh-Hans": "总部密码", "zh-Hant": "總公司密碼", "en": "HQ password"},
    "w_login": {"zh-Hans": "登录", "zh-Hant": "登入", "en": "Log in"},
    "w_logout": {"zh-Hans": "退出", "zh-Hant": "登出", "en": "Log out"},
    "w_no_accounts": {"zh-Hans": "总部尚无审核人账号：请先运行 xlplan hq-user add 姓名",
                      "zh-Hant": "總公司尚無審核人帳號：請先執行 xlplan hq-user add 姓名",
                      "en": "HQ has no reviewer accounts yet: run xlplan hq-user add NAME first"},
    "w_login_failed": {"zh-Hans": "姓名或密码不对", "zh-Hant": "姓名或密碼不對", "en": "Name or password is wrong"},
    "w_status": {"zh-Hans": "提交状态", "zh-Hant": "提交狀態", "en": "Status"},
    "w_plan": {"zh-Hans": "合并计划与实绩", "zh-Hant": "合併計劃與實績", "en": "Plan and actual"},
    "w_made": {"zh-Hans": "生成于", "zh-Hant": "生成於", "en": "Made"},
    "w_latest_version": {"zh-Hans": "最新版本", "zh-Hant": "最新版本", "en": "Latest version"},
    "w_approved_version": {"zh-Hans": "已批准版本", "zh-Hant": "已通過版本", "en": "Approved version"},
    "w_open": {"zh-Hans": "审核", "zh-Hant": "審核", "en": "Review"},
    "w_diff": {"zh-Hans": "版本比较", "zh-Hant": "版本比較", "en": "Compare versions"},
    "w_findings": {"zh-Hans": "检查结果", "zh-Hant": "檢查結果", "en": "Findings"},
    "w_severity": {"zh-Hans": "级别", "zh-Hant": "級別", "en": "Severity"},
    "w_sheet": {"zh-Hans": "工作表", "zh-Hant": "工作表", "en": "Sheet"},
    "w_cell": {"zh-Hans": "单元格", "zh-Hant": "儲存格", "en": "Cell"},
    "w_message": {"zh-Hans": "说明", "zh-Hant": "說明", "en": "Message"},
    "w_note": {"zh-Hans": "总体意见", "zh-Hant": "總體意見", "en": "Overall comment"},
    "w_approve": {"zh-Hans": "批准", "zh-Hant": "通過", "en": "Approve"},
    "w_return": {"zh-Hans": "退回修改", "zh-Hant": "退回修改", "en": "Return with comments"},
    "w_cell_comments": {"zh-Hans": "单元格意见（每行一条：工作表!单元格: 意见）", "zh-Hant": "儲存格意見（每行一條：工作表!儲存格: 意見）", "en": "Cell comments (one a line: SHEET!CELL: comment)"},
    "w_cell_comments_example": {"zh-Hans": "计划进度!C10: 一月目标偏高，请说明", "zh-Hant": "計劃進度!C10: 一月目標偏高，請說明", "en": "Schedule!C10: January looks high, please explain"},
    "w_download_returned": {"zh-Hans": "下载带审核意见的工作簿", "zh-Hant": "下載帶審核意見的工作簿", "en": "Download the workbook with the comments"},
    "w_log": {"zh-Hans": "审核记录（只增不改）", "zh-Hant": "審核記錄（只增不改）", "en": "Review log (appended, never edited)"},
    "w_time": {"zh-Hans": "时间（{zone}）", "zh-Hant": "時間（{zone}）", "en": "Time ({zone})"},
    "w_by": {"zh-Hans": "经办人", "zh-Hant": "經辦人", "en": "By"},
    "w_from": {"zh-Hans": "从版本", "zh-Hant": "從版本", "en": "From version"},
    "w_to": {"zh-Hans": "到版本", "zh-Hant": "到版本", "en": "to version"},
    "w_compare": {"zh-Hans": "比较", "zh-Hant": "比較", "en": "Compare"},
    "w_changed_inputs": {"zh-Hans": "改动的输入", "zh-Hant": "改動的輸入", "en": "Changed inputs"},
    "w_what": {"zh-Hans": "项目", "zh-Hant": "項目", "en": "What"},
    "w_old": {"zh-Hans": "原值", "zh-Hant": "原值", "en": "Old"},
    "w_new": {"zh-Hans": "新值", "zh-Hant": "新值", "en": "New"},
    "w_change": {"zh-Hans": "变动", "zh-Hant": "變動", "en": "Change"},
    "w_effect_on_totals": {"zh-Hans": "对合计的影响", "zh-Hant": "對合計的影響", "en": "Effect on the totals"},
    "w_rows_changed": {"zh-Hans": "插入或删除的表格行", "zh-Hant": "插入或刪除的表格列", "en": "Table rows inserted or removed"},
    "w_row_inserted": {"zh-Hans": "插入", "zh-Hant": "插入", "en": "inserted"},
    "w_row_removed": {"zh-Hans": "删除", "zh-Hant": "刪除", "en": "removed"},
    "w_row": {"zh-Hans": "行", "zh-Hant": "列", "en": "Row"},
    "w_basis_approved": {"zh-Hans": "采用各单位已批准的计划", "zh-Hant": "採用各單位已通過的計劃", "en": "Each unit's approved plan is used"},
    "w_basis_accepted": {"zh-Hans": "采用各单位最新通过检查的计划", "zh-Hant": "採用各單位最新通過檢查的計劃", "en": "Each unit's latest accepted plan is used"},
    "w_basis_switch_approved": {"zh-Hans": "改看最新通过检查的计划", "zh-Hant": "改看最新通過檢查的計劃", "en": "Show the latest accepted plans instead"},
    "w_basis_switch_accepted": {"zh-Hans": "改看已批准的计划", "zh-Hant": "改看已通過的計劃", "en": "Show the approved plans instead"},
    "w_returned_suffix": {"zh-Hans": "审核意见", "zh-Hant": "審核意見", "en": "review"},
}
