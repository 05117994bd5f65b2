"""What the NLU returns: the intent with its confidence, a ranking, the language and entities."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

INTENTS = (
    "greet",
    "goodbye",
    "thanks",
    "help",
    "book",
    "cancel",
    "reschedule",
    "my_appointments",
    "query_schedule",
    "triage",
    "register",
    "complaint",
    "complaint_status",
    "affirm",
    "deny",
    "inform",
    "switch_language",
    "emergency",
    "out_of_scope",
)

ENTITY_TYPES = (
    "department",
    "doctor",
    "hospital",
    "date",
    "time_of_day",
    "time",
    "id_number",
    "phone",
    "booking_no",
    "complaint_no",
    "symptom",
    "specialty",
    "person_name",
    "relation",  # who the patient is to the writer: son, mother, … (给我儿子挂号)
    "temperature",
    "age_group",
)


@dataclass(frozen=True, slots=True)
class Entity:
    """One thing found in the text. `value` is normalised: a department code, a doctor's work
    number, an ISO date, "am"/"pm"/"eve", "HH:MM", the digits of an ID or phone number."""

    entity: str
    value: str
    start: int
    end: int
    text: str
    confidence: float = 1.0
    # Other work numbers (or codes) that matched about as well as `value`: the dialogue asks.
    candidates: tuple[str, ...] = ()
    extractor: str = "builtin"

    def to_rasa(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "entity": self.entity,
            "value": self.value,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "confidence_entity": round(self.confidence, 4),
            "extractor": self.extractor,
        }
        if self.candidates:
            found["candidates"] = list(self.candidates)
        return found


@dataclass(frozen=True, slots=True)
class IntentScore:
    name: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Parse:
    text: str
    intent: str
    confidence: float
    language: str  # "zh" or "en"
    ranking: tuple[IntentScore, ...] = ()
    entities: tuple[Entity, ...] = field(default=())
    # For the SMS quick command (GHDH…): "ok", or the part that is wrong (format, doctor, date,
    # time, name). None for any other message.
    quick_command: str | None = None

    def first(self, entity: str) -> Entity | None:
        return next((found for found in self.entities if found.entity == entity), None)

    def values(self, entity: str) -> list[str]:
        return [found.value for found in self.entities if found.entity == entity]

    def to_rasa(self) -> dict[str, Any]:
        """Rasa's parse-result shape, with `value` normalised; `language` is our own key."""
        result: dict[str, Any] = {
            "text": self.text,
            "intent": {"name": self.intent, "confidence": round(self.confidence, 4)},
            "intent_ranking": [
                {"name": score.name, "confidence": round(score.confidence, 4)}
                for score in self.ranking
            ],
            "entities": [found.to_rasa() for found in self.entities],
            "language": self.language,
        }
        if self.quick_command is not None:
            result["quick_command"] = self.quick_command
        return result


class Understanding(Protocol):
    """Anything that turns a message into a Parse: the built-in NLU or a Rasa server.
    `department`: the one the conversation has chosen (a code), which a doctor's name heard
    in the message more likely belongs to (张维 in cardiology is 张伟)."""

    def parse(
        self,
        text: str,
        *,
        now: datetime,
        lang_hint: str | None = None,
        department: str | None = None,
    ) -> Parse: ...
