"""The built-in NLU: emergency signs first, then numbers, dates, names and the intent."""

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from nlu.classifier import IntentModel, mask, train_intent_model
from nlu.emergency import BUILT_IN_SIGNS, EmergencySigns
from nlu.extraction import Extractor, Found
from nlu.model_store import load_model, model_key, save_model
from nlu.pinyin_reading import PinyinReader
from nlu.quick_command import parse_quick_command
from nlu.result import Entity, IntentScore, Parse
from nlu.temperatures import dangerous_fever
from nlu.text import ANALYSED_CHARS, detect_language, normalise
from nlu.training_data import TrainingData, load_sources, read_sources
from nlu.vocabulary import Vocabulary

_CONTENT = re.compile(r"[0-9a-z\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[a-z]+")
_EMOJI_INTENTS = {"👍": "affirm", "👌": "affirm", "🙏": "thanks", "👋": "greet", "👎": "deny"}
# Below this share of known words a Latin-only message with nothing recognised is gibberish.
_KNOWN_WORDS_NEEDED = 0.5
_TRAINING_DAY = date(2026, 1, 5)  # any day: dates only need to be masked, not resolved
SpanMap = Callable[[int, int], tuple[int, int]]


class BuiltinNlu:
    """In-process, no network: trained from the Rasa-format data and the catalogue at start-up,
    or loaded from the model saved by an earlier start with the same data and catalogue."""

    def __init__(
        self, vocabulary: Vocabulary, training: TrainingData, model: IntentModel | None = None
    ) -> None:
        self.vocabulary = vocabulary
        self._training = training
        self._zone = ZoneInfo(vocabulary.timezone)
        self._extractor = Extractor(vocabulary, training)
        self._pinyin = PinyinReader(training.examples, self._extractor.doctor_latin_names())
        self.emergency = EmergencySigns(
            [*BUILT_IN_SIGNS, *vocabulary.emergency_signs, *training.lookups.get("emergency", [])]
        )
        if model is None:
            texts = [
                self._masked(self._pinyin.read(normalise(e.text)).text, _TRAINING_DAY)
                for e in training.examples
            ]
            model = train_intent_model(texts, [example.intent for example in training.examples])
        self.model = model
        self._known_words = model.known_words

    @classmethod
    def from_directory(
        cls, vocabulary: Vocabulary, directory: Path, *, saved_models: Path | None = None
    ) -> "BuiltinNlu":
        """Trained on the data in `directory`; with `saved_models`, the model is kept there and
        reused while the data, the catalogue's words and this code stay the same."""
        sources = read_sources(directory)
        training = load_sources(sources)
        if saved_models is None:
            return cls(vocabulary, training)
        key = model_key(sources, vocabulary)
        model = load_model(saved_models, key)
        nlu = cls(vocabulary, training, model)
        if model is None:
            save_model(saved_models, key, nlu.model)
        return nlu

    @property
    def intents(self) -> tuple[str, ...]:
        return self.model.intents

    def use_vocabulary(self, vocabulary: Vocabulary) -> None:
        """The catalogue's names as they are now (a doctor added or removed in the back office):
        indexed again, without training again, since the intent model only ever sees a name as
        its entity's placeholder ("挂<doctor>的号"). Tens of milliseconds for thousands of
        doctors: call it in a worker thread; a parse meanwhile uses the old index or the new,
        swapped in one assignment. Emergency signs stay as built: they are triage rules from
        the catalogue file, not names that staff edit."""
        extractor = Extractor(vocabulary, self._training)
        self._pinyin = PinyinReader(self._training.examples, extractor.doctor_latin_names())
        self._extractor = extractor
        self.vocabulary = vocabulary

    def parse(
        self,
        text: str,
        *,
        now: datetime,
        lang_hint: str | None = None,
        department: str | None = None,
    ) -> Parse:
        today = now.astimezone(self._zone).date() if now.tzinfo else now.date()
        sign, denied = self.emergency.scan(text)  # first, and over the whole message
        head = text[:ANALYSED_CHARS]
        normalised = normalise(head).head(ANALYSED_CHARS)  # NFKC may lengthen the text
        read = self._pinyin.read(normalised)  # "houtian xiawu" is 后天下午
        if read is not normalised:
            normalised = read
            if sign is None:
                sign, denied = self.emergency.scan(read.text)  # "xiongtong" is 胸痛
        language = detect_language(normalised.text, lang_hint)
        command = parse_quick_command(normalised.text, today)
        if command is not None:
            found = self._extractor.from_quick_command(command)
            problem = command.error
            if problem is None and self._extractor.doctor_work_no(command.work_no or "") is None:
                problem = "doctor"
            ranking: tuple[IntentScore, ...] = (IntentScore("book", 1.0),)
            if sign is not None:
                ranking = (IntentScore("emergency", 1.0), *ranking)
            entities = self._entities(head, normalised.span, found)
            return Parse(
                text,
                ranking[0].name,
                1.0,
                language,
                ranking,
                entities,
                quick_command=problem or "ok",
            )
        found = self._extractor.find(normalised.text, today, normalised.cased, department)
        if sign is None:  # 胸口突然剧痛 is 胸口痛, "pain in my chest" chest pain: signs
            sign = next(filter(None, (self._sign_in(normalised.text, f) for f in found)), None)
        if sign is None and dangerous_fever(
            normalised.text,
            [float(f.value) for f in found if f.entity == "temperature"],
            any(f.entity == "age_group" for f in found),
        ):
            sign = "41℃"
        masked = mask(normalised.text, self._spans(normalised.text, found))
        ranking = self.model.rank(masked)
        if sign is not None:
            ranking = (
                IntentScore("emergency", 1.0),
                *tuple(score for score in ranking if score.name != "emergency"),
            )
        elif denied and ranking[0].name == "emergency":
            # "没有胸痛，只是想复查": the words of an emergency, denied; the next reading stands.
            ranking = (*ranking[1:], ranking[0])
        elif not _CONTENT.search(normalised.text):
            ranking = _without_words(normalised.text)
        elif not found and self._gibberish(normalised.text):
            ranking = (
                IntentScore("out_of_scope", 1.0),
                *tuple(score for score in ranking if score.name != "out_of_scope"),
            )
        intent = ranking[0]
        found = self._extractor.settle_terms(normalised.text, found, intent.name)
        entities = self._entities(head, normalised.span, found)
        return Parse(text, intent.name, intent.confidence, language, ranking, entities)

    def _masked(self, text: str, today: date) -> str:
        return mask(text, self._spans(text, self._extractor.find(text, today)))

    def _sign_in(self, text: str, found: Found) -> str | None:
        """The sign a complaint's part and feeling make, unless denied before it ("no chest
        pain", 没有胸口疼)."""
        if found.core is None:
            return None
        return self.emergency.find(text[: found.start] + found.core)

    def _spans(self, text: str, found: Iterable[Found]) -> list[tuple[int, int, str]]:
        """What to mask: a symptom as a symptom, or as a sign when it is an emergency's, so
        that "我有⟨symptom⟩" is learnt once for every complaint a patient may name."""
        return [
            (
                f.start,
                f.end,
                "sign"
                if f.entity == "symptom"
                and (self._sign_in(text, f) or self.emergency.find(text[f.start : f.end]))
                else f.entity,
            )
            for f in found
        ]

    def _gibberish(self, text: str) -> bool:
        """ "asdkjh", "qwerty zxc": Latin letters and no word the bot has ever seen."""
        if re.search(r"[\u3400-\u9fff0-9]", text):
            return False
        words = _LATIN_WORD.findall(text)
        known = sum(1 for word in words if word in self._known_words)
        return bool(words) and known / len(words) < _KNOWN_WORDS_NEEDED

    @staticmethod
    def _entities(
        original: str, to_original: SpanMap, found: Iterable[Found]
    ) -> tuple[Entity, ...]:
        entities = []
        for item in found:
            start, end = to_original(item.start, item.end)
            surface = original[start:end]
            value = surface.strip() if item.entity == "person_name" else item.value
            entities.append(
                Entity(item.entity, value, start, end, surface, item.confidence, item.candidates)
            )
        return tuple(entities)


def _without_words(text: str) -> tuple[IntentScore, ...]:
    """Emoji and punctuation only: a thumbs-up is a yes; anything else is not for us."""
    for emoji, intent in _EMOJI_INTENTS.items():
        if emoji in text:
            return (IntentScore(intent, 0.9), IntentScore("out_of_scope", 0.1))
    return (IntentScore("out_of_scope", 1.0),)
