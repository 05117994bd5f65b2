"""Every text exists in Chinese and English, and every refusal has its sentence."""

import pytest

import booking.errors as errors
from bot.texts import LANGUAGES, Texts


@pytest.fixture(scope="module")
def texts() -> Texts:
    return Texts.load()


def test_both_languages_have_the_same_texts_and_placeholders(texts: Texts) -> None:
    assert texts.keys("zh") == texts.keys("en")
    for key in texts.keys("zh"):
        assert texts.placeholders("zh", key) == texts.placeholders("en", key), key


def test_every_refusal_of_the_booking_domain_has_a_sentence(texts: Texts) -> None:
    reasons = {
        cls.reason
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.BookingError) and cls.reason
    }
    reasons.discard(errors.BookingError.reason)
    for language in LANGUAGES:
        for reason in reasons:
            sentence = texts.say(language, f"refusal.{reason}")
            assert sentence and "{" not in sentence


def test_chinese_is_the_default_and_texts_read_as_one_line(texts: Texts) -> None:
    assert texts.say("fr", "emergency") == texts.say("zh", "emergency")
    assert "120" in texts.say("en", "emergency")
    assert "\n" not in texts.say("en", "emergency")
