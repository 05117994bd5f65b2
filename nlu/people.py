"""Patients' own names, given to register or book: "我叫王小明", "姓名：李雷", "my name is Li Lei",
or a name written next to an ID number ("王小明 110101199003074514")."""

import re

from nlu.text import HAN_CHARS, is_han

_CUE_ZH = re.compile(
    r"(?:我叫|我的名字是|名字(?:是|叫)?|名叫|姓名(?:是|为)?|患者(?:姓名)?(?:是)?|就诊人(?:是|姓名)?"
    r"|病人(?:是|叫)?|本人|孩子叫|他叫|她叫)[\s:：,，]*"
)
_CUE_EN = re.compile(
    r"(?<![a-z])(?:my name is|my name's|name is|name:|patient name:?|patient is|i am called|"
    r"call me|registered as)\s+([a-z][a-z'-]+(?: [a-z][a-z'-]+){0,3})"
)
_RELATIVE_ZH = re.compile(
    r"(?:儿子|女儿|妈妈|妈|爸爸|爸|母亲|父亲|老婆|老公|爱人|孩子|奶奶|爷爷|外婆|姥姥|外公|姥爷"
    r"|婆婆|公公|岳母|岳父|丈夫|妻子)[\s:：,，]*"
)
# A name stops before these: 给我妈张兰挂号 is 张兰, not 张兰挂.
_AFTER_NAME = set("挂约退查改办添加注册绑定预要想的在是来去看和也")
_TIME_WORDS = (
    "今天",
    "明天",
    "后天",
    "明儿",
    "明早",
    "上午",
    "下午",
    "晚上",
    "下周",
    "这周",
    "周末",
)
_NUMBER_LABEL = re.compile(
    r"[\s:：,，]*(?:身份证号码|身份证号|身份证|证件号码?|手机号码?|手机|电话号码?|电话|id)?[\s:：,，是]*$"
)
# Surnames that cover most of the population: a bare name beside an ID number must start
# with one, so that "身份证 110…" is not read as a person called 身份证.
SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘"
    "祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟"
    "艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞"
    "姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_COMPOUND_SURNAMES = (
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "令狐", "端木", "独孤", "南宫", "西门",
)  # fmt: skip
_FOR_SOMEONE = re.compile(
    rf"(?:给|帮|替|为)(?=[{HAN_CHARS}]{{2,3}}(?:挂|约|预约|退|查|改|取消|办|登记|注册|绑定))"
)
_NOT_IN_NAMES = set("我你他她们的个人家号科")
_RELATIVES = (
    "mum|mom|mother|mama|dad|father|papa|son|daughter|wife|husband|grandma|grandpa|"
    "grandmother|grandfather|child|kid|baby|brother|sister|parent|uncle|aunt|friend"
)
_CUE_EN_PERSON = re.compile(
    r"(?<![a-z])(?:name|patient|my (?:" + _RELATIVES + r"))\s*(?:is|:|,)?\s+"
    r"([a-z][a-z'-]+(?: [a-z][a-z'-]+){1,3})"
)
_LATIN_BEFORE = re.compile(r"([a-z][a-z'-]+ [a-z][a-z'-]+)[\s,:]*$")
# Pinyin syllables, loosely: enough to tell "wang jianguo" from "tomorrow morning".
_PINYIN = re.compile(
    r"^(?:(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
    r"(?:iang|iong|uang|ang|eng|ing|ong|uai|uan|iao|ian|ai|ei|ao|ou|an|en|in|un|ui|ia|ie|iu"
    r"|ua|uo|ve|ue|er|a|o|e|i|u|v))+$"
)
_STOP_WORDS = {
    "and",
    "i",
    "my",
    "id",
    "is",
    "phone",
    "please",
    "pls",
    "tel",
    "mobile",
    "with",
    "for",
    "to",
    "born",
    "from",
    "the",
    "number",
    "card",
    "here",
    "as",
    "a",
    "an",
    "in",
    "on",
    "at",
    "tomorrow",
    "today",
    "morning",
    "afternoon",
    "evening",
    "next",
    "this",
    "he",
    "she",
    "his",
    "her",
    "me",
    "you",
    "wants",
    "needs",
    "book",
    "see",
    "name",
    "patient",
    "register",
    "add",
    "new",
    "no",
    "yes",
    "ok",
    "dr",
    "doctor",
}


def _looks_like_name(words: list[str], cased: list[str]) -> bool:
    return all(
        word not in _STOP_WORDS and (_PINYIN.match(word) or original[:1].isupper())
        for word, original in zip(words, cased, strict=True)
    )


def _latin_name(text: str, cased: str, start: int, end: int) -> tuple[int, int] | None:
    """The longest run of name-like words from `start` (two words at least)."""
    words = text[start:end].split(" ")
    originals = (cased[start:end] if len(cased) == len(text) else text[start:end]).split(" ")
    while words and words[0] in _STOP_WORDS:  # "my mum, name Li Guilan"
        start += len(words[0]) + 1
        words, originals = words[1:], originals[1:]
    while len(words) >= 2:
        if _looks_like_name(words, originals):
            return start, start + len(" ".join(words))
        words, originals = words[:-1], originals[:-1]
    return None


def _han_name_at(text: str, start: int) -> int | None:
    """The end of a Chinese name starting at `start`: surname first, two or three characters
    (four with a two-character surname such as 欧阳)."""
    compound = text.startswith(_COMPOUND_SURNAMES, start)
    if start >= len(text) or not (compound or text[start] in SURNAMES):
        return None
    if text.startswith(_TIME_WORDS, start):
        return None
    longest = 4 if compound else 3
    end = start + (2 if compound else 1)
    while end < len(text) and end - start < longest and is_han(text[end]):
        if end - start >= 2 and (text[end] in _AFTER_NAME or text.startswith(_TIME_WORDS, end)):
            break
        end += 1
    name = text[start:end]
    if len(name) < 2 or _NOT_IN_NAMES.intersection(name):
        return None
    return end


def _han_name_before(text: str, end: int) -> int | None:
    """The start of a Chinese name ending at `end`: three characters, else two."""
    for size in (3, 2):
        start = end - size
        if (
            start >= 0
            and all(is_han(char) for char in text[start:end])
            and _han_name_at(text, start) == end
        ):
            return start
    return None


def find_person_names(
    text: str, number_spans: list[tuple[int, int]], cased: str = ""
) -> list[tuple[int, int]]:
    """(start, end) spans of names in normalised text. `number_spans` are the ID and phone
    numbers found, beside which a bare name is likely; `cased` is the text before lower-casing,
    when known (a capital tells "Lily Chen" from "lily pads")."""
    spans: list[tuple[int, int]] = []
    for pattern in (_CUE_ZH, _RELATIVE_ZH, _FOR_SOMEONE):
        for match in pattern.finditer(text):
            position = match.end()
            relative = _RELATIVE_ZH.match(text, position)  # 就诊人是我妈李桂兰
            if relative:
                position = relative.end()
            end = _han_name_at(text, position)
            if end is not None:
                spans.append((position, end))
    for pattern in (_CUE_EN_PERSON, _CUE_EN):
        for match in pattern.finditer(text):
            found = _latin_name(text, cased, *match.span(1))
            if found:
                spans.append(found)
    for number_start, number_end in number_spans:
        label = _NUMBER_LABEL.search(text, max(0, number_start - 12), number_start)
        before = label.start() if label else number_start
        latin = _LATIN_BEFORE.search(text, max(0, before - 40), before)
        found = _latin_name(text, cased, *latin.span(1)) if latin else None
        start = _han_name_before(text, before)
        if found:
            spans.append(found)
        elif start is not None:
            spans.append((start, before))
        after = number_end
        while after < len(text) and text[after] in " ,，:：":
            after += 1
        end = _han_name_at(text, after)  # 310104198506123025 陈美玲
        if end is not None and end > after:
            spans.append((after, end))
    return _distinct(spans)


def _distinct(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    kept: list[tuple[int, int]] = []
    for start, end in sorted(set(spans), key=lambda span: (span[0], -span[1])):
        if all(end <= lo or start >= hi for lo, hi in kept):
            kept.append((start, end))
    return kept


# Who the patient is to the one writing: "给我儿子挂儿科", "my mum needs…". The value says the
# relation in one word; the dialogue then asks which patient rather than assuming the writer.
_RELATIONS_ZH = {
    "son": "小儿子|大儿子|儿子",
    "daughter": "小女儿|大女儿|女儿|闺女",
    "grandchild": "外孙女|外孙|孙女|孙子",
    "child": "小孩子|小朋友|孩子|小孩|宝宝|娃娃",
    "mother": "妈妈|母亲|老妈|我妈|俺妈|我娘",
    "father": "爸爸|父亲|老爸|我爸|俺爸",
    "grandparent": "爷爷|奶奶|外公|外婆|姥姥|姥爷|老人家",
    "parent_in_law": "公公|婆婆|岳父|岳母|丈母娘|老丈人",
    "spouse": "老公|老婆|丈夫|妻子|爱人|媳妇",
    "sibling": "哥哥|姐姐|弟弟|妹妹|我哥|我姐|我弟|我妹",
}
_RELATIONS_EN = {
    "parent_in_law": "mother-in-law|father-in-law",
    "son": "son|boy",
    "daughter": "daughter|girl",
    "grandchild": "grandson|granddaughter|grandchild",
    "child": "child|kid|kids|baby|toddler|little one",
    "mother": "mum|mom|mother|mama|mommy|mummy",
    "father": "dad|father|papa|daddy",
    "grandparent": "grandma|grandpa|grandmother|grandfather|granny|grandparents?",
    "spouse": "wife|husband|spouse|partner",
    "sibling": "brother|sister",
}
_RELATION_ZH = re.compile("|".join(f"(?P<{name}>{words})" for name, words in _RELATIONS_ZH.items()))
_RELATION_EN = re.compile(
    r"(?<![a-z])(?:my|our)\s+(?:(?:little|young|youngest|eldest|old|elderly)\s+)?(?:"
    + "|".join(f"(?P<{name}>{words})" for name, words in _RELATIONS_EN.items())
    + r")(?![a-z])"
)


def find_relations(text: str) -> list[tuple[int, int, str]]:
    """(start, end, relation) in normalised text: 儿子 -> son, "my mum" -> mother."""
    found = []
    for pattern in (_RELATION_ZH, _RELATION_EN):
        for match in pattern.finditer(text):
            name = match.lastgroup
            assert name is not None
            found.append((match.start(name), match.end(name), name))
    return found
