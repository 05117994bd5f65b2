"""A Rasa server in place of the built-in NLU (its HTTP `POST /model/parse`).

Emergency signs are still checked here first, and when the server cannot be reached the
built-in model answers: a patient never waits on a down server or misses a "call 120"."""

import logging
from datetime import datetime
from typing import Any

import httpx

from nlu.emergency import BUILT_IN_SIGNS, EmergencySigns
from nlu.result import Entity, IntentScore, Parse, Understanding
from nlu.text import detect_language, normalise
from nlu.vocabulary import Vocabulary

log = logging.getLogger(__name__)


class RasaUnavailable(RuntimeError):
    pass


class RasaServerNlu:
    def __init__(
        self,
        url: str,
        *,
        fallback: Understanding | None = None,
        timeout: float = 2.0,
        emergency: EmergencySigns | None = None,
        check_emergency: bool = True,
    ) -> None:
        """`emergency`: the signs to check (the built-in model's, with the hospital's own);
        `check_emergency=False` gives Rasa's answer alone, for comparisons."""
        self._client = httpx.Client(base_url=url.rstrip("/"), timeout=timeout)
        self._fallback = fallback
        self._emergency = (emergency or EmergencySigns(BUILT_IN_SIGNS)) if check_emergency else None

    def close(self) -> None:
        self._client.close()

    def use_vocabulary(self, vocabulary: Vocabulary) -> None:
        """The catalogue's words as they are now, for the built-in fallback: the server has its
        own model, trained from the same data by the hospital."""
        refresh = getattr(self._fallback, "use_vocabulary", None)
        if refresh is not None:
            refresh(vocabulary)

    def parse(
        self,
        text: str,
        *,
        now: datetime,
        lang_hint: str | None = None,
        department: str | None = None,
    ) -> Parse:
        """`department` only reaches the built-in fallback: Rasa's parse takes no context (the
        dialogue still narrows a doctor's candidates to the chosen department)."""
        sign = self._emergency.find(text) if self._emergency is not None else None
        try:
            parse = parse_from_rasa(
                text, self._ask(text), detect_language(normalise(text[:1000]).text, lang_hint)
            )
        except RasaUnavailable as problem:
            if self._fallback is None:
                raise
            log.warning("Rasa server unavailable (%s); the built-in NLU answers", problem)
            return self._fallback.parse(text, now=now, lang_hint=lang_hint, department=department)
        if sign is not None:
            ranking = (
                IntentScore("emergency", 1.0),
                *tuple(score for score in parse.ranking if score.name != "emergency"),
            )
            parse = Parse(text, "emergency", 1.0, parse.language, ranking, parse.entities)
        return parse

    def _ask(self, text: str) -> dict[str, Any]:
        try:
            response = self._client.post("/model/parse", json={"text": text})
            response.raise_for_status()
            result = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise RasaUnavailable(type(error).__name__) from None
        if not isinstance(result, dict):
            raise RasaUnavailable("unexpected answer")
        return result


def parse_from_rasa(text: str, result: dict[str, Any], language: str) -> Parse:
    try:
        return _parse_from_rasa(text, result, language)
    except (TypeError, ValueError, AttributeError):
        raise RasaUnavailable("an answer not in Rasa's shape") from None


def _parse_from_rasa(text: str, result: dict[str, Any], language: str) -> Parse:
    intent = result.get("intent") or {}
    name = str(intent.get("name") or "out_of_scope")
    ranking = tuple(
        IntentScore(str(item.get("name")), float(item.get("confidence") or 0.0))
        for item in result.get("intent_ranking") or []
        if isinstance(item, dict)
    ) or (IntentScore(name, float(intent.get("confidence") or 0.0)),)
    entities = []
    for item in result.get("entities") or []:
        start, end = (item.get("start"), item.get("end")) if isinstance(item, dict) else (0, 0)
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            continue  # an entity without a usable span (a regex extractor's, or garbled)
        entities.append(
            Entity(
                str(item.get("entity")),
                str(item.get("value")),
                start,
                end,
                text[start:end],
                float(item.get("confidence_entity") or 1.0),
                extractor=str(item.get("extractor") or "rasa"),
            )
        )
    return Parse(
        text, name, float(intent.get("confidence") or 0.0), language, ranking, tuple(entities)
    )
