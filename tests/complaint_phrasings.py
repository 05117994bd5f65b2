"""How patients describe illness, generated: body parts × how they feel × who is ill × how the
sentence goes, temperatures, everyday disease words, in Chinese and English, each with the
department the demo hospital's triage should suggest first. Standard library only, so that a
benchmark can run the same phrasings against an older checkout.

A child goes to paediatrics whatever the complaint; an elderly parent by the complaint."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass

CHILD, ELDERLY = "child", "elderly"


@dataclass(frozen=True)
class Phrasing:
    text: str
    department: str  # the first department triage should suggest
    who: str | None = None  # child | elderly | None


# Body part -> (department, feelings beyond the everyday 疼/痛/不舒服/难受).
PARTS_ZH = {
    "胃": ("GAST", ("胀", "胀痛")),
    "肚子": ("GAST", ("胀", "绞痛")),
    "小肚子": ("GAST", ("胀",)),
    "头": ("NEUR", ("晕", "胀", "昏")),
    "嗓子": ("ENT", ("痒", "干", "哑")),
    "喉咙": ("ENT", ("痒", "发炎")),
    "耳朵": ("ENT", ("痒", "嗡嗡响")),
    "鼻子": ("ENT", ("痒", "不通")),
    "腰": ("ORTH", ("酸", "酸痛")),
    "后背": ("ORTH", ("酸",)),
    "膝盖": ("ORTH", ("酸", "肿")),
    "脖子": ("ORTH", ("酸", "僵硬")),
    "肩膀": ("ORTH", ("酸", "酸痛")),
    "腿": ("ORTH", ("酸", "麻", "肿")),
    "脚踝": ("ORTH", ("肿", "扭伤")),
    "手腕": ("ORTH", ("酸", "肿")),
    "眼睛": ("OPHT", ("痒", "干涩", "酸", "红", "模糊")),
    "牙": ("DENT", ("酸",)),
    "牙齿": ("DENT", ("酸", "松动")),
    "牙龈": ("DENT", ("肿", "出血")),
    "皮肤": ("DERM", ("痒", "过敏", "发红")),
}
# Parts whose pain is an emergency sign (心脏疼 is chest pain): only the milder words here.
MILD_ONLY_ZH = {"心脏": ("CARD", ("不舒服", "难受", "不太舒服")), "胸口": ("CARD", ("闷", "发闷"))}
EVERYDAY_ZH = ("疼", "痛", "不舒服", "难受")
BETWEEN_ZH = ("", "有点", "一直", "老是", "特别")
WHO_ZH = (
    ("", None),
    ("我", None),
    ("我妈", ELDERLY),
    ("我爸", ELDERLY),
    ("老人", ELDERLY),
    ("奶奶", ELDERLY),
    ("孩子", CHILD),
    ("宝宝", CHILD),
    ("我儿子3岁，", CHILD),
    ("我家小孩", CHILD),
    ("女儿", CHILD),
)
FRAMES_ZH = (
    "{c}",
    "{c}挂什么科",
    "{c}，该看哪个科",
    "{c}好几天了",
    "最近{c}，怎么办",
    "{c}，去哪看",
)

PARTS_EN = {
    "stomach": "GAST",
    "tummy": "GAST",
    "belly": "GAST",
    "head": "NEUR",
    "throat": "ENT",
    "ear": "ENT",
    "nose": "ENT",
    "back": "ORTH",
    "lower back": "ORTH",
    "knee": "ORTH",
    "neck": "ORTH",
    "shoulder": "ORTH",
    "leg": "ORTH",
    "ankle": "ORTH",
    "wrist": "ORTH",
    "eye": "OPHT",
    "tooth": "DENT",
    "gums": "DENT",
    "skin": "DERM",
}
PLURAL_EN = {"gums"}
# (sentence about one's own part, noun phrase for "X has …").
SHAPES_EN = (
    ("my {p} {hurts}", "{p} pain"),
    ("{p} pain", "{p} pain"),
    ("sore {p}", "a sore {p}"),
    ("pain in my {p}", "pain in the {p}"),
    ("my {p} {is} sore", "a sore {p}"),
    ("my {p} {is} killing me", "{p} problems"),
    ("{p} problems", "{p} problems"),
    ("my {p} {is} swollen", "a swollen {p}"),
    ("my {p} {does} not feel right", "{p} trouble"),
)
WHO_EN = (
    ("", None),
    ("my son", CHILD),
    ("my daughter", CHILD),
    ("my toddler", CHILD),
    ("my 4 year old", CHILD),
    ("my baby", CHILD),
    ("my mum", ELDERLY),
    ("my dad", ELDERLY),
    ("my elderly father", ELDERLY),
    ("grandma", ELDERLY),
)
FRAMES_EN = (
    "{c}",
    "{c}, which department?",
    "{c}, where should I go",
    "{c} for two days now",
    "what should I do, {c}",
    "{c}. Which doctor do I need?",
)

TEMPERATURES_ZH = ("发烧{t}度", "烧到{t}度", "体温{t}", "发烧{t}℃", "高烧{t}度", "{t}度，一直不退")
TEMPERATURES_EN = ("a fever of {t}", "a {f}F fever", "a temperature of {t}", "a fever, {t} degrees")
DEGREES = ("37.8", "38", "38.5", "39", "39.2", "39.5", "40")

DISEASES_ZH = {
    "胃病": "GAST", "老胃病": "GAST", "胃炎": "GAST", "肠胃炎": "GAST", "拉肚子": "GAST",
    "拉稀": "GAST", "便秘": "GAST", "感冒": "RESP", "流感": "RESP", "肺炎": "RESP",
    "支气管炎": "RESP", "哮喘": "RESP", "失眠": "NEUR", "偏头痛": "NEUR", "高血压": "CARD",
    "糖尿病": "ENDO", "痔疮": "GSUR", "颈椎病": "ORTH", "关节炎": "ORTH", "鼻炎": "ENT",
    "咽炎": "ENT", "中耳炎": "ENT", "红眼病": "OPHT", "白内障": "OPHT", "湿疹": "DERM",
    "脚气": "DERM", "蛀牙": "DENT", "痛经": "OBGY", "月经不调": "OBGY",
}  # fmt: skip
DISEASE_FRAMES_ZH = ("{d}", "我有{d}", "{d}又犯了", "{d}挂什么科", "得了{d}去哪看")
DISEASES_EN = {
    "a cold": "RESP", "the flu": "RESP", "diarrhea": "GAST", "constipation": "GAST",
    "heartburn": "GAST", "acid reflux": "GAST", "a stomach bug": "GAST", "insomnia": "NEUR",
    "migraines": "NEUR", "eczema": "DERM", "acne": "DERM", "hay fever": "ENT",
    "pink eye": "OPHT", "a cavity": "DENT", "bronchitis": "RESP", "pneumonia": "RESP",
    "asthma": "RESP", "high blood pressure": "CARD", "diabetes": "ENDO", "hemorrhoids": "GSUR",
    "arthritis": "ORTH", "period pain": "OBGY",
}  # fmt: skip
DISEASE_FRAMES_EN = (
    "I have {d}",
    "{d}, which department?",
    "got {d} again",
    "what department for {d}",
)


def body_complaints_zh() -> Iterator[Phrasing]:
    parts = [
        (part, department, (*EVERYDAY_ZH, *own)) for part, (department, own) in PARTS_ZH.items()
    ]
    parts += [(part, department, own) for part, (department, own) in MILD_ONLY_ZH.items()]
    for part, department, feelings in parts:
        for feeling, between, (who, group), frame in itertools.product(
            feelings, BETWEEN_ZH, WHO_ZH, FRAMES_ZH
        ):
            complaint = f"{who}{part}{between}{feeling}"
            yield Phrasing(frame.format(c=complaint), _where(department, group), group)


def body_complaints_en() -> Iterator[Phrasing]:
    for part, department in PARTS_EN.items():
        plural = part in PLURAL_EN
        verbs = {"hurts": "hurt" if plural else "hurts", "is": "are" if plural else "is"}
        verbs["does"] = "do" if plural else "does"
        for (own, noun), (who, group), frame in itertools.product(SHAPES_EN, WHO_EN, FRAMES_EN):
            if not who:
                complaint = own.format(p=part, **verbs)
            elif own.startswith("my "):
                complaint = own.replace("my ", f"{who}'s ", 1).format(p=part, **verbs)
            else:
                complaint = f"{who} has {noun.format(p=part)}"
            yield Phrasing(frame.format(c=complaint), _where(department, group), group)


def temperatures() -> Iterator[Phrasing]:
    for shape, degrees, (who, group) in itertools.product(TEMPERATURES_ZH, DEGREES, WHO_ZH):
        yield Phrasing(f"{who}{shape.format(t=degrees)}", _where("RESP", group), group)
    for shape, degrees, (who, group) in itertools.product(TEMPERATURES_EN, DEGREES, WHO_EN):
        fahrenheit = round(float(degrees) * 9 / 5 + 32)
        said = shape.format(t=degrees, f=fahrenheit)
        yield Phrasing(
            f"{who or 'I'} {'has' if who else 'have'} {said}", _where("RESP", group), group
        )


def everyday_diseases() -> Iterator[Phrasing]:
    for (disease, department), frame in itertools.product(DISEASES_ZH.items(), DISEASE_FRAMES_ZH):
        yield Phrasing(frame.format(d=disease), department)
    for (disease, department), frame in itertools.product(DISEASES_EN.items(), DISEASE_FRAMES_EN):
        yield Phrasing(frame.format(d=disease), department)


def every_phrasing() -> list[Phrasing]:
    return [*body_complaints_zh(), *body_complaints_en(), *temperatures(), *everyday_diseases()]


def sample(count: int, seed: int) -> list[Phrasing]:
    """`count` phrasings drawn with `seed` (print the seed with a failure to replay it)."""
    everything = every_phrasing()
    return random.Random(seed).sample(everything, min(count, len(everything)))


def _where(department: str, group: str | None) -> str:
    return "PEDI" if group == CHILD else department
