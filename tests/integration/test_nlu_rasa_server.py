"""A Rasa server can replace the built-in NLU: over real HTTP on 127.0.0.1, a local server that
answers `POST /model/parse` as Rasa does. Emergencies are still caught locally, and a server
that is down, slow or talks nonsense leaves the patient with the built-in model's answer."""

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from bot.runtime.nlu import build_nlu
from bot.settings import Settings
from nlu.engine import BuiltinNlu
from nlu.rasa_server import RasaServerNlu, RasaUnavailable, parse_from_rasa
from nlu.training_data import load_directory
from nlu.vocabulary import DoctorTerms
from tests.support import NLU_DATA, WEDNESDAY_10AM, demo_catalogue


class FakeRasa(BaseHTTPRequestHandler):
    """Answers like Rasa 3.6's /model/parse; a text starting with "!" makes it fail."""

    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeRasa.received.append({"path": self.path, "body": body})
        text = body["text"]
        if text.startswith("!"):
            self.send_response(500)
            self.end_headers()
            return
        if text.startswith("?"):
            payload = b"<html>not json</html>"
        else:
            payload = json.dumps(
                {
                    "text": text,
                    "intent": {"name": "book", "confidence": 0.91},
                    "intent_ranking": [
                        {"name": "book", "confidence": 0.91},
                        {"name": "inform", "confidence": 0.05},
                    ],
                    "entities": [
                        {
                            "entity": "department",
                            "value": "CARD",
                            "start": 2,
                            "end": 5,
                            "confidence_entity": 0.99,
                            "extractor": "DIETClassifier",
                        }
                    ],
                }
            ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture
def rasa_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRasa)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeRasa.received.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_rasa_answer_becomes_a_parse(rasa_url: str) -> None:
    rasa = RasaServerNlu(rasa_url)
    found = rasa.parse("我要心内科的号", now=WEDNESDAY_10AM)
    assert FakeRasa.received == [{"path": "/model/parse", "body": {"text": "我要心内科的号"}}]
    assert (found.intent, found.confidence, found.language) == ("book", 0.91, "zh")
    assert [s.name for s in found.ranking] == ["book", "inform"]
    department = found.first("department")
    assert department is not None
    assert (department.value, department.text, department.extractor) == (
        "CARD",
        "心内科",
        "DIETClassifier",
    )


def test_emergencies_are_caught_before_rasas_answer(rasa_url: str) -> None:
    found = RasaServerNlu(rasa_url).parse("胸口剧痛 我要心内科的号", now=WEDNESDAY_10AM)
    assert found.intent == "emergency"
    assert found.ranking[1].name == "book"


@pytest.mark.parametrize("text", ["!server error", "?not json"])
def test_a_failing_server_falls_back_to_the_builtin_model(
    rasa_url: str, nlu: BuiltinNlu, text: str
) -> None:
    rasa = RasaServerNlu(rasa_url, fallback=nlu)
    assert rasa.parse(text + " 我要挂号", now=WEDNESDAY_10AM) == nlu.parse(
        text + " 我要挂号", now=WEDNESDAY_10AM
    )


def test_a_server_that_is_down(nlu: BuiltinNlu) -> None:
    down = "http://127.0.0.1:9"  # the discard port: nothing listens
    assert RasaServerNlu(down, fallback=nlu).parse("你好", now=WEDNESDAY_10AM).intent == "greet"
    with pytest.raises(RasaUnavailable):
        RasaServerNlu(down).parse("你好", now=WEDNESDAY_10AM)


def test_the_builtin_fallback_follows_the_catalogue(nlu: BuiltinNlu) -> None:
    """A doctor added while the bot runs is understood even when the server is down."""
    fallback = BuiltinNlu(nlu.vocabulary, load_directory(NLU_DATA), nlu.model)  # not the shared
    newcomer = DoctorTerms("03999", "秦岚", "Qin Lan", "CARD", "H01", "副主任医师")
    rasa = RasaServerNlu("http://127.0.0.1:9", fallback=fallback)
    try:
        rasa.use_vocabulary(replace(nlu.vocabulary, doctors=(*nlu.vocabulary.doctors, newcomer)))
        found = rasa.parse("帮我挂秦岚医生明天的号", now=WEDNESDAY_10AM)
    finally:
        rasa.close()
    assert found.values("doctor") == ["03999"]


@pytest.mark.parametrize(
    "answer",
    [
        {"intent": "book", "entities": []},  # not Rasa's shape
        {"intent": {"name": "book", "confidence": "high"}},
    ],
)
def test_an_answer_not_in_rasas_shape_falls_back(nlu: BuiltinNlu, answer: dict[str, Any]) -> None:
    with pytest.raises(RasaUnavailable):
        parse_from_rasa("hi", answer, "en")


def test_entities_without_a_usable_span_are_left_out() -> None:
    found = parse_from_rasa(
        "挂心内科",
        {
            "intent": {"name": "book", "confidence": 0.9},
            "entities": [
                {"entity": "department", "value": "CARD", "start": None, "end": None},
                {"entity": "department", "value": "CARD", "start": 1, "end": 99},
                {"entity": "department", "value": "CARD", "start": 1, "end": 4},
            ],
        },
        "zh",
    )
    assert [(e.value, e.text) for e in found.entities] == [("CARD", "心内科")]


def test_settings_choose_the_rasa_server_with_the_builtin_model_behind(tmp_path: Path) -> None:
    settings = Settings(
        GUAHAO_NLU="rasa", GUAHAO_RASA_URL="http://127.0.0.1:9", GUAHAO_NLU_MODELS=tmp_path
    )
    nlu = build_nlu(settings, demo_catalogue())
    assert isinstance(nlu, RasaServerNlu)
    # Nothing listens on port 9: the built-in model answers, and the hospital's own signs count.
    assert nlu.parse("帮我挂明天心内科的号", now=WEDNESDAY_10AM).intent == "book"
    assert nlu.parse("我胸口剧痛", now=WEDNESDAY_10AM).intent == "emergency"
    assert isinstance(build_nlu(Settings(GUAHAO_NLU_MODELS=tmp_path), demo_catalogue()), BuiltinNlu)
