"""Issue 15: ID and mobile numbers in what a patient wrote are masked for the staff group, as
they are written by people (in groups joined by any separator, with +86, after a letter, one
straight after another, in full-width digits); booking and complaint numbers, dates, times,
amounts and landlines stay readable. Numbers written in Chinese numerals (一三九…) are not read."""

import pytest

from booking.patients.identity import mask_in_text

ID = "1101**********4514"
MOBILE = "139****2222"


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("身份证110101199003074514。", f"身份证{ID}。"),
        ("ID 110101 19900307 451x", "ID 1101**********451x"),
        ("手机13912342222，", f"手机{MOBILE}，"),
        ("call +86 139-1234-2222 please", f"call {MOBILE} please"),
        ("电话１３９１２３４２２２２", f"电话{MOBILE}"),
        ("旧身份证110101900307451", "旧身份证1101*******7451"),
        # a letter right before the number
        ("ID110101199003074514", f"ID{ID}"),
        ("sfz110101199003074514", f"sfz{ID}"),
        ("tel13912342222", f"tel{MOBILE}"),
        # IDs grouped in other ways
        ("身份证 1101 0119 9003 0745 14 谢谢", f"身份证 {ID} 谢谢"),
        ("身份证 110101 1990 0307 4514", f"身份证 {ID}"),
        ("身份证 110101-1990-0307-4514", f"身份证 {ID}"),
        ("身份证 110101.19900307.4514", f"身份证 {ID}"),
        ("身份证 11010119900307 4514", f"身份证 {ID}"),
        ("身份证 44010619900307 4510", "身份证 4401**********4510"),  # 14 + 4, Guangzhou
        ("身份证 110101 19900307 4519", "身份证 1101**********4519"),  # check digit mistyped
        ("身份证１１０１０１１９９００３０７４５１４", f"身份证{ID}"),
        # phones with other separators
        ("电话 139.1234.2222 谢谢", f"电话 {MOBILE} 谢谢"),
        ("电话 (139)12342222", f"电话 {MOBILE}"),
        ("电话（139）1234-2222", f"电话{MOBILE}"),
        ("电话 +86 (139) 1234 2222", f"电话 {MOBILE}"),
        ("电话 +8613912342222", f"电话 {MOBILE}"),
        ("电话 139—1234—2222", f"电话 {MOBILE}"),
        ("电话 139–1234–2222", f"电话 {MOBILE}"),
        ("电话 139_1234_2222", f"电话 {MOBILE}"),
        ("电话 139/1234/2222", f"电话 {MOBILE}"),
        ("电话 １３９ １２３４ ２２２２", f"电话 {MOBILE}"),
        # spaces of other kinds, zero-width characters
        ("电话 139\u00a01234\u00a02222", f"电话 {MOBILE}"),
        ("电话 139\u30001234\u30002222", f"电话 {MOBILE}"),
        ("电话 139\u200b1234\u200b2222", f"电话 {MOBILE}"),
        ("电话 1391234\u200d2222", f"电话 {MOBILE}"),
        ("身份证 110101\u200b19900307\u20604514", f"身份证 {ID}"),
        ("身份证 110101\u00a019900307\u30004514", f"身份证 {ID}"),
        # one straight after another
        ("11010119900307451413912342222", f"{ID}{MOBILE}"),
        ("13912342222110101199003074514", f"{MOBILE}{ID}"),
        ("身份证110101199003074514 电话13912342222", f"身份证{ID} 电话{MOBILE}"),
        # next to numbers that stay
        ("2026-12-09 13912342222", f"2026-12-09 {MOBILE}"),
        ("投诉 TS2611250427 13912342222", f"投诉 TS2611250427 {MOBILE}"),
        ("预约号 26113013912345 电话 13912342222", f"预约号 26113013912345 电话 {MOBILE}"),
        # 15 or more digits we cannot read are masked too (a bank card)
        ("卡号 6222021234567890123", "卡号 6222***********0123"),
    ],
)
def test_id_and_mobile_numbers_are_masked(written: str, shown: str) -> None:
    assert mask_in_text(written) == shown


@pytest.mark.parametrize(
    "kept",
    [
        "预约号 261126004217",
        "预约号 26120900001234",
        "预约号26113013912345",  # 30 November: 13013912345 inside looks like a mobile
        "预约号 26013113800000，请查一下",
        "投诉 TS2611250427 的进度",
        "投诉号ts2611250427",
        "等了3个小时，排在第12号",
        "座机 010-65123456",
        "座机 (010) 6512 3456",
        "2026-12-09 10:00 的号",
        "12/09 14:30 到 15:30",
        "2026.12.09 上午",
        "花了1,380.50元，退了 200 元",
        "100 200 300 400 500 600",
        "第 3 诊室 12 号",
    ],
)
def test_other_numbers_are_kept(kept: str) -> None:
    assert mask_in_text(kept) == kept
