"""A scripted OpenAI-compatible server on loopback, for the LLM generator's tests and benchmark.

`FakeModel` answers the three SCaR steps deterministically from the request content, so a rerun
gets the same answers. Markers `xx-<fault>` in an entity's category (which flows into every
step's prompt) script content faults; `FakeOpenAIServer.push_faults` scripts transport faults
(429 with Retry-After, 500, a hang) for the next chat requests. Batch mode endpoints (/v1/files,
/v1/batches) run the same model; lines whose request carries `xx-batch-fail` fail the first time.
`stall(route, after)` makes the next call to a batch route ("upload", "create", "retrieve") hang
for `hang_s`, before doing anything (then it answers 503) or after doing its work (the reply comes
too late: a lost reply); `fail_batches(n)` makes the next n batches end `failed` as a whole.
`fail_all(kind, after=n)` answers every chat request after the next n with that fault until
`fail_all(None)` (a server going down); a request carrying `xx-http-500` always gets a 500; a chat
request that is none of the SCaR steps (the circuit breaker's probe) is answered "ok".
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

OBJECTS = ["red umbrella", "wooden chair", "black dog", "blue bicycle", "glass vase", "paper kite", "copper kettle",
           "straw hat", "leather boot", "toy train", "brass lamp", "wicker basket", "silver spoon", "stone bench"]
RELATIONS = ["hanging above the", "lying under the", "leaning against the", "floating over the", "hidden behind the", "stacked on the"]
SCENES = ["on a snowy mountain", "in a busy train station", "at a sandy beach", "in a dim library", "on a rainy street", "in a green meadow"]
REFUSAL_TEXT = "I'm sorry, I can't help with that."

_JSON_BLOCK = re.compile(r"```json\s*(.*?)\s*```", re.DOTALL)


def _text_of(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    return "\n".join(p.get("text", "") for p in content or [] if p.get("type") == "text")


def _json_blocks(text: str) -> list[Any]:
    return [json.loads(b) for b in _JSON_BLOCK.findall(text)]


class FakeModel:
    """Deterministic answers to the caption / negatives / verify prompts."""

    def step(self, body: dict[str, Any]) -> str:
        fmt = body.get("response_format") or {}
        name = (fmt.get("json_schema") or {}).get("name", "")
        if name.startswith("scar_"):
            return name[len("scar_"):]
        system = _text_of(body["messages"][0])
        if "hard negative" in system:
            return "negatives"
        if "review candidate captions" in system:
            return "verify"
        if not any(_json_blocks(_text_of(m)) for m in body["messages"] if m["role"] == "user"):
            return "other"  # no SCaR prompt: the circuit breaker's "are you up?" probe
        return "caption"

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        """{'content': str | None, 'refusal': str | None}"""
        messages = body["messages"]
        first_user = _text_of(next(m for m in messages if m["role"] == "user"))
        attempt = sum(1 for m in messages if m["role"] == "assistant")
        step = self.step(body)
        if step == "other":
            return {"content": "ok", "refusal": None}
        if step == "audit":  # scar audit --llm-judge: one caption, a plausibility score
            score = 95 if "xx-likely" in first_user else 10 + zlib.crc32(first_user.encode("utf-8")) % 50
            return {"content": json.dumps({"score": score}), "refusal": None}
        has = lambda marker: f"xx-{marker}" in first_user  # noqa: E731
        blocks = _json_blocks(first_user)
        if step == "caption":
            if has("refusal"):
                return {"content": None, "refusal": REFUSAL_TEXT}
            if has("malformed-always") or (has("malformed-once") and attempt == 0):
                return {"content": '{"object": "a thing", "relation": ', "refusal": None}
            facts = blocks[0]
            neighbour = (facts.get("other_things_in_image") or ["wall"])[0]
            parts = {"object": f"the {facts['category']}", "relation": f"next to the {neighbour}",
                     "scene": f"in the {facts.get('scene') or 'room'}"}  # fmt: skip
            return {"content": json.dumps({**parts, "caption": " ".join(parts.values())}), "refusal": None}
        if step == "negatives":
            gold, counts = blocks[0], blocks[1]
            used = set()
            for block in blocks[2:]:  # accepted / rejected context on regeneration
                used.update(json.dumps(block).lower().split('"'))
            if has("wrong-count-always") or (has("wrong-count-once") and attempt == 0):
                counts = {**counts, "object": counts.get("object", 0) + 1}
            out: dict[str, list[dict[str, str]]] = {}
            for kind, pool in (("object", OBJECTS), ("relation", RELATIONS), ("scene", SCENES)):
                items = []
                for candidate in pool:
                    if len(items) >= counts.get(kind, 0):
                        break
                    replacement = candidate if kind != "relation" else f"{candidate} {gold['relation'].split()[-1]}"
                    if kind == "object":
                        replacement = f"a {candidate}"
                        if has("synonym") and not items and not any("big" in u for u in used):
                            replacement = "a big " + gold["object"].split()[-1]
                    parts = {k: gold[k] for k in ("object", "relation", "scene")}
                    parts[kind] = replacement
                    caption = " ".join(parts.values())
                    if caption.lower() in used:
                        continue
                    items.append({"replacement": replacement, "caption": caption})
                out[kind] = items
            return {"content": json.dumps(out), "refusal": None}
        # verify
        candidates = blocks[0]
        gold_caption = candidates["gold"]
        gold_object = gold_caption.split(" next to ")[0]
        verdicts = []
        for neg in candidates["negatives"]:
            caption = neg["caption"]
            is_object_negative = not caption.startswith(gold_object + " ")
            fluent = True
            if has("bad-negative-once") and "red umbrella" in caption:
                fluent = False
            if has("bad-negative-always") and is_object_negative:
                fluent = False
            verdicts.append({"index": neg["index"], "false_for_region": True, "fluent_and_plausible": fluent,
                             "reason": "" if fluent else "reads oddly"})  # fmt: skip
        gold_ok = not has("gold-false")
        verdict = {"gold": {"true": gold_ok, "reason": "" if gold_ok else "wrong object"}, "negatives": verdicts}
        return {"content": json.dumps(verdict), "refusal": None}


def completion(body: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    content = answer["content"]
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "fake"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": answer["refusal"]},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": len(json.dumps(body["messages"])) // 4,
            "completion_tokens": len(content or answer["refusal"] or "") // 4,
            "total_tokens": 0,
        },
    }


@dataclass
class Fault:
    kind: str  # "429" | "500" | "hang" | "401-echo" (an auth error quoting the key it got)
    retry_after: str | None = None


@dataclass
class ServerLog:
    chat_requests: int = 0
    chat_by_step: dict[str, int] = field(default_factory=dict)
    faults_served: list[str] = field(default_factory=list)
    auth_headers: set[str] = field(default_factory=set)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    files_uploaded: int = 0
    batches_created: int = 0
    batch_lines: int = 0


class FakeOpenAIServer:
    def __init__(self, latency_s: float = 0.0, hang_s: float = 2.0, keep_bodies: bool = True,
                 no_json_schema: bool = False) -> None:  # fmt: skip
        self.model = FakeModel()
        self.latency_s = latency_s
        self.hang_s = hang_s
        self.keep_bodies = keep_bodies
        self.no_json_schema = no_json_schema  # answer 400 to response_format json_schema, like some servers
        self.log = ServerLog()
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._files: dict[str, bytes] = {}
        self._batches: dict[str, dict[str, Any]] = {}
        self._failed_once: set[str] = set()
        self._stalls: dict[str, list[bool]] = {}  # route -> queued stalls (True: after doing the work)
        self._batches_to_fail = 0
        self._always: Fault | None = None
        self._always_after = 0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "FakeOpenAIServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "FakeOpenAIServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def push_faults(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def fail_all(self, kind: str | None, after: int = 0) -> None:
        """Every chat request after the next `after` gets this fault ("500", "429", "hang", ...) until
        fail_all(None): a server that goes down."""
        with self._lock:
            self._always = Fault(kind) if kind is not None else None
            self._always_after = after

    def _next_fault(self) -> Fault | None:
        with self._lock:
            if self._always is not None:
                if self._always_after <= 0:
                    return self._always
                self._always_after -= 1
            return self._faults.pop(0) if self._faults else None

    def stall(self, route: str, after: bool = False) -> None:
        with self._lock:
            self._stalls.setdefault(route, []).append(after)

    def fail_batches(self, n: int) -> None:
        with self._lock:
            self._batches_to_fail += n

    def _take_stall(self, route: str) -> bool | None:
        with self._lock:
            queued = self._stalls.get(route)
            return queued.pop(0) if queued else None

    # ------------------------------------------------------------ batch side

    def _run_batch(self, batch_id: str) -> None:
        batch = self._batches[batch_id]
        if self._batches_to_fail:
            self._batches_to_fail -= 1
            batch["status"] = "failed"
            batch["errors"] = {"object": "list", "data": [{"code": "server_error", "message": "scripted batch failure"}]}
            return
        out_lines, err_lines = [], []
        for raw in self._files[batch["input_file_id"]].decode().splitlines():
            if not raw.strip():
                continue
            line = json.loads(raw)
            self.log.batch_lines += 1
            key = line["custom_id"]
            body = line["body"]
            if "xx-batch-fail" in json.dumps(body) and key not in self._failed_once:
                self._failed_once.add(key)
                err_lines.append({"id": "r", "custom_id": key, "response": {"status_code": 500, "body": {}},
                                  "error": {"code": "server_error", "message": "scripted line failure"}})  # fmt: skip
                continue
            step = self.model.step(body)
            self.log.chat_by_step[step] = self.log.chat_by_step.get(step, 0) + 1
            out_lines.append({"id": "r", "custom_id": key, "error": None,
                              "response": {"status_code": 200, "body": completion(body, self.model.answer(body))}})  # fmt: skip
        for name, lines in (("output_file_id", out_lines), ("error_file_id", err_lines)):
            if lines:
                file_id = f"file-{len(self._files) + 1}"
                self._files[file_id] = "".join(json.dumps(x) + "\n" for x in lines).encode()
                batch[name] = file_id
        batch["request_counts"] = {"total": len(out_lines) + len(err_lines), "completed": len(out_lines), "failed": len(err_lines)}

    # ------------------------------------------------------------ HTTP

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in two writes: without TCP_NODELAY, Nagle's algorithm holds the
            # body until the client's delayed ACK (about 40 ms on Linux), adding latency to every reply.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
                data = raw if raw is not None else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_POST(self) -> None:  # noqa: N802
                server.log.auth_headers.add(self.headers.get("Authorization", ""))
                data = self._body()
                if self.path.endswith("/chat/completions"):
                    return self._chat(json.loads(data))
                if self.path.endswith("/files"):
                    stall = server._take_stall("upload")
                    if stall is False:
                        time.sleep(server.hang_s)
                        return self._send(503, {"error": {"message": "stalled", "type": "server_error"}})
                    self._upload(data, delay=server.hang_s if stall else 0.0)
                    return None
                if self.path.endswith("/batches"):
                    req = json.loads(data)
                    stall = server._take_stall("create")
                    if stall is False:
                        time.sleep(server.hang_s)
                        return self._send(503, {"error": {"message": "stalled", "type": "server_error"}})
                    with server._lock:
                        batch_id = f"batch-{len(server._batches) + 1}"
                        server.log.batches_created += 1
                        server._batches[batch_id] = {
                            "id": batch_id, "object": "batch", "endpoint": req["endpoint"], "input_file_id": req["input_file_id"],
                            "completion_window": req["completion_window"], "status": "validating", "created_at": 0,
                            "output_file_id": None, "error_file_id": None, "polls": 0,
                        }  # fmt: skip
                    if stall:
                        time.sleep(server.hang_s)  # created, but the reply comes too late
                    return self._send(200, server._batches[batch_id])
                self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_GET(self) -> None:  # noqa: N802
                server.log.auth_headers.add(self.headers.get("Authorization", ""))
                if re.search(r"/batches(\?.*)?$", self.path):  # list, newest first, one page
                    with server._lock:
                        listed = [dict(b) for b in reversed(server._batches.values())]
                    return self._send(200, {"object": "list", "data": listed, "has_more": False,
                                            "first_id": listed[0]["id"] if listed else None,
                                            "last_id": listed[-1]["id"] if listed else None})  # fmt: skip
                m = re.search(r"/batches/([^/]+)$", self.path)
                if m and m.group(1) in server._batches:
                    stall = server._take_stall("retrieve")
                    if stall is False:
                        time.sleep(server.hang_s)
                        return self._send(503, {"error": {"message": "stalled", "type": "server_error"}})
                    with server._lock:
                        batch = server._batches[m.group(1)]
                        batch["polls"] += 1
                        if batch["polls"] == 1:
                            batch["status"] = "in_progress"
                        elif batch["status"] == "in_progress":
                            server._run_batch(batch["id"])
                            if batch["status"] == "in_progress":
                                batch["status"] = "completed"
                        reply = dict(batch)
                    if stall:
                        time.sleep(server.hang_s)
                    return self._send(200, reply)
                m = re.search(r"/files/([^/]+)/content$", self.path)
                if m and m.group(1) in server._files:
                    return self._send(200, None, raw=server._files[m.group(1)])
                self._send(404, {"error": {"message": f"no route {self.path}"}})

            def _upload(self, data: bytes, delay: float = 0.0) -> None:
                head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
                msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + data)
                content = b""
                for part in msg.iter_parts():
                    if part.get_param("name", header="content-disposition") == "file":
                        content = part.get_payload(decode=True)
                with server._lock:
                    file_id = f"file-{len(server._files) + 1}"
                    server._files[file_id] = content
                    server.log.files_uploaded += 1
                if delay:
                    time.sleep(delay)  # stored, but the reply comes too late
                self._send(200, {"id": file_id, "object": "file", "bytes": len(content), "created_at": 0,
                                 "filename": "batch.jsonl", "purpose": "batch", "status": "processed"})  # fmt: skip

            def _chat(self, body: dict[str, Any]) -> None:
                with server._lock:
                    server.log.chat_requests += 1
                    if server.keep_bodies:
                        server.log.bodies.append(body)
                fault = server._next_fault()
                if fault is None and any("xx-http-500" in _text_of(m) for m in body["messages"]):  # always fails this record
                    fault = Fault("500")
                if fault is not None:
                    server.log.faults_served.append(fault.kind)
                    if fault.kind == "429":
                        headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                        return self._send(429, {"error": {"message": "rate limited", "type": "rate_limit"}}, headers)
                    if fault.kind == "500":
                        return self._send(500, {"error": {"message": "boom", "type": "server_error"}})
                    if fault.kind == "401-echo":
                        said = self.headers.get("Authorization", "")
                        return self._send(401, {"error": {"message": f"Incorrect API key provided: {said}", "type": "auth"}})
                    if fault.kind == "hang":
                        time.sleep(server.hang_s)
                        return self._send(200, completion(body, server.model.answer(body)))
                if server.no_json_schema and (body.get("response_format") or {}).get("type") == "json_schema":
                    return self._send(400, {"error": {"message": "response_format json_schema is not supported", "type": "invalid_request_error"}})
                if server.latency_s:
                    time.sleep(server.latency_s)
                step = server.model.step(body)
                with server._lock:
                    server.log.chat_by_step[step] = server.log.chat_by_step.get(step, 0) + 1
                self._send(200, completion(body, server.model.answer(body)))

        return Handler
