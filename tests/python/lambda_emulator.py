"""An emulator of the AWS Lambda Runtime API, written from the protocol (see
/work/shared/design/LAMBDA.md, "Runtime API"), to drive a custom runtime in tests.

It owns the runtime-facing HTTP side (next / response / error / init error, buffered
and chunked streaming answers with trailers) and a record of what the runtime sent.
It knows nothing about LambdaLLM or pytest: tests queue events with `invoke` and
assert on the returned `Invocation`. Event builders for function URL (payload 2.0)
events and an SSE parser live here too, because they are about Lambda's formats.
"""
import base64
import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BASE = "/2018-06-01"
ERROR_CONTENT_TYPE = "application/vnd.aws.lambda.error+json"
HTTP_INTEGRATION_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response"
PRELUDE_SEPARATOR = b"\x00" * 8
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
ERROR_BODY_HEADER = "Lambda-Runtime-Function-Error-Body"
# Lambda's limit on a buffered response payload.
MAX_BUFFERED_RESPONSE = 6 * 1024 * 1024
MAX_LINE = 64 * 1024


class RuntimeExited(RuntimeError):
    """The watched runtime process ended while an invocation waited for it."""


@dataclass
class Chunk:
    """One chunk of a streamed answer, as it arrived."""
    at: float  # epoch seconds, when the chunk's last byte was read
    data: bytes


@dataclass
class Invocation:
    """One event, what Lambda told the runtime about it, and what the runtime answered."""
    request_id: str
    event: bytes
    timeout_s: float
    function_arn: str
    trace_id: str
    client_context: str | None = None
    cognito_identity: str | None = None
    queued_at: float = 0.0
    delivered_at: float | None = None  # epoch seconds, when GET /next returned it
    deadline_ms: int | None = None  # as sent in Lambda-Runtime-Deadline-Ms
    # The answer: "response" or "error", None while pending.
    kind: str | None = None
    headers: dict = field(default_factory=dict)  # lower-case names of the answer's request headers
    content_type: str | None = None
    streaming: bool = False
    body: bytes = b""  # the whole answer body (chunks joined when streamed)
    chunks: list = field(default_factory=list)
    trailers: dict = field(default_factory=dict)  # lower-case names
    answer_started_at: float | None = None  # when the answer's headers arrived
    completed_at: float | None = None  # when its last byte (or trailer) arrived
    # For http-integration-response answers: the JSON prelude and the bytes after it.
    prelude: dict | None = None
    prelude_error: str | None = None
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def payload(self) -> bytes:
        """The body without the prelude (the whole body when there is none)."""
        if self.prelude is not None:
            return self.body[self.body.index(PRELUDE_SEPARATOR) + len(PRELUDE_SEPARATOR):]
        return self.body

    def json(self):
        return json.loads(self.payload)

    @property
    def error_type(self) -> str | None:
        """From the error header (error answers) or the trailer (broken streams)."""
        return self.headers.get(ERROR_TYPE_HEADER.lower()) or self.trailers.get(ERROR_TYPE_HEADER.lower())

    @property
    def stream_error(self) -> dict | None:
        """The decoded Lambda-Runtime-Function-Error-Body trailer of a broken stream."""
        raw = self.trailers.get(ERROR_BODY_HEADER.lower())
        if raw is None:
            return None
        return json.loads(base64.b64decode(raw, validate=True))

    @property
    def error(self) -> dict | None:
        """The JSON body of an /error answer."""
        return json.loads(self.body) if self.kind == "error" else None

    def sse(self) -> list:
        return parse_sse(self.payload)


@dataclass
class InitError:
    headers: dict
    body: bytes
    at: float

    @property
    def error_type(self) -> str | None:
        return self.headers.get(ERROR_TYPE_HEADER.lower())

    def json(self):
        return json.loads(self.body)


@dataclass
class ProtocolError:
    """A request the emulator refused (as real Lambda would): tests assert there are none."""
    method: str
    path: str
    status: int
    reason: str


class LambdaEmulator:
    """The Runtime API on 127.0.0.1 at an ephemeral port; a context manager."""

    def __init__(self, function_name="test-fn", region="us-east-1", account="123456789012"):
        self.function_arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
        self._events = queue.Queue()
        self._lock = threading.Lock()
        self._invocations = {}  # request id -> Invocation
        self._first_poll = threading.Event()
        self._init_error_seen = threading.Event()
        self._stopping = False
        self.init_error: InitError | None = None
        self.next_polls = 0
        self.protocol_errors: list[ProtocolError] = []
        self.process = None  # a subprocess.Popen to watch while waiting, if set
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.emulator = self
        self._thread = None

    # Lifecycle

    @property
    def address(self) -> str:
        """The value of AWS_LAMBDA_RUNTIME_API."""
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="lambda-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopping = True
        # Wake every handler blocked in GET /next; they close their connection.
        for _ in range(64):
            self._events.put(None)
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # Test API

    def queue(self, event, timeout_s=30.0, client_context=None, cognito_identity=None) -> Invocation:
        """Queues an event; `timeout_s` is the function timeout its deadline is computed from."""
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        invocation = Invocation(
            request_id=str(uuid.uuid4()), event=body, timeout_s=timeout_s, function_arn=self.function_arn,
            trace_id=new_trace_id(), client_context=client_context, cognito_identity=cognito_identity,
            queued_at=time.time(),
        )
        with self._lock:
            self._invocations[invocation.request_id] = invocation
        self._events.put(invocation)
        return invocation

    def wait(self, invocation: Invocation, wait_s=None) -> Invocation:
        """Blocks until the invocation's answer is complete; raises TimeoutError or RuntimeExited."""
        limit = time.time() + (wait_s if wait_s is not None else invocation.timeout_s + 30)
        while not invocation.done.wait(0.05):
            if self.process is not None and self.process.poll() is not None:
                if invocation.done.wait(0.2):  # an answer racing the exit still counts
                    break
                raise RuntimeExited(f"the runtime exited with {self.process.returncode} "
                                    f"before answering {invocation.request_id}")
            if time.time() > limit:
                raise TimeoutError(f"no answer to {invocation.request_id} "
                                   f"(delivered: {invocation.delivered_at is not None})")
        return invocation

    def invoke(self, event, timeout_s=30.0, wait_s=None, **kwargs) -> Invocation:
        return self.wait(self.queue(event, timeout_s=timeout_s, **kwargs), wait_s=wait_s)

    def wait_for_next_poll(self, timeout=60.0) -> bool:
        """True once the runtime made its first GET /next (its init is over)."""
        limit = time.time() + timeout
        while not self._first_poll.wait(0.05):
            if self._init_error_seen.is_set() or time.time() > limit:
                return False
            if self.process is not None and self.process.poll() is not None:
                return False
        return True

    @property
    def invocations(self) -> list:
        with self._lock:
            return list(self._invocations.values())

    # Called by the handler

    def _next_event(self):
        with self._lock:
            self.next_polls += 1
        self._first_poll.set()
        invocation = self._events.get()
        if invocation is None or self._stopping:
            return None
        invocation.delivered_at = time.time()
        invocation.deadline_ms = int((invocation.delivered_at + invocation.timeout_s) * 1000)
        return invocation

    def _lookup(self, request_id):
        with self._lock:
            return self._invocations.get(request_id)

    def _refuse(self, method, path, status, reason):
        with self._lock:
            self.protocol_errors.append(ProtocolError(method, path, status, reason))

    def _record_init_error(self, init_error):
        self.init_error = init_error
        self._init_error_seen.set()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Handler(BaseHTTPRequestHandler):
    # Small answers would otherwise wait on delayed ACKs (~80 ms per invocation).
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    server_version = "LambdaEmulator/1"

    def log_message(self, format, *args):  # keep test output clean
        pass

    @property
    def emu(self) -> LambdaEmulator:
        return self.server.emulator

    def do_GET(self):
        if self.path != BASE + "/runtime/invocation/next":
            return self._drain_and_refuse(404, "unknown path")
        invocation = self.emu._next_event()
        if invocation is None:
            self.close_connection = True
            return
        headers = {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
            "Lambda-Runtime-Trace-Id": invocation.trace_id,
        }
        if invocation.client_context is not None:
            headers["Lambda-Runtime-Client-Context"] = invocation.client_context
        if invocation.cognito_identity is not None:
            headers["Lambda-Runtime-Cognito-Identity"] = invocation.cognito_identity
        self._reply(200, invocation.event, headers)

    def do_POST(self):
        parts = self.path.split("?", 1)[0].split("/")
        # ['', '2018-06-01', 'runtime', 'invocation', ID, 'response'|'error'] or [..., 'init', 'error']
        if self.path == BASE + "/runtime/init/error":
            return self._init_error()
        if len(parts) == 6 and "/".join(parts[:4]) == BASE + "/runtime/invocation" and parts[5] in ("response", "error"):
            return self._answer(parts[4], parts[5])
        return self._drain_and_refuse(404, "unknown path")

    # Answers

    def _answer(self, request_id, kind):
        started = time.time()
        invocation = self.emu._lookup(request_id)
        headers = {k.lower(): v for k, v in self.headers.items()}
        if invocation is None or invocation.delivered_at is None:
            return self._drain_and_refuse(400, f"unknown request id {request_id!r}",
                                          error_type="InvalidRequestID")
        if invocation.kind is not None:
            return self._drain_and_refuse(400, f"request {request_id} was already answered",
                                          error_type="InvalidStateTransition")
        streaming = headers.get("lambda-runtime-function-response-mode", "").lower() == "streaming"
        chunked = headers.get("transfer-encoding", "").lower() == "chunked"
        if chunked:
            chunks, trailers = self._read_chunked()
        else:
            length = int(headers.get("content-length", "0"))
            if kind == "response" and length > MAX_BUFFERED_RESPONSE:
                return self._drain_and_refuse(413, f"response of {length} bytes is over the buffered limit",
                                              error_type="RequestEntityTooLarge", length=length)
            data = self.rfile.read(length)
            chunks, trailers = [Chunk(time.time(), data)], {}
        if streaming and not chunked:
            self.emu._refuse("POST", self.path, 0, "streaming mode without Transfer-Encoding: chunked")
        invocation.headers = headers
        invocation.content_type = headers.get("content-type")
        invocation.streaming = streaming
        invocation.chunks = chunks if chunked else []
        invocation.body = b"".join(c.data for c in chunks)
        invocation.trailers = trailers
        invocation.answer_started_at = started
        invocation.completed_at = time.time()
        if (invocation.content_type or "").split(";")[0].strip() == HTTP_INTEGRATION_CONTENT_TYPE:
            _split_prelude(invocation)
        invocation.kind = kind
        self._reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})
        invocation.done.set()

    def _init_error(self):
        headers = {k.lower(): v for k, v in self.headers.items()}
        body = self.rfile.read(int(headers.get("content-length", "0")))
        self.emu._record_init_error(InitError(headers=headers, body=body, at=time.time()))
        self._reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})

    # HTTP plumbing

    def _read_line(self) -> bytes:
        line = self.rfile.readline(MAX_LINE + 1)
        if not line.endswith(b"\r\n"):
            raise ConnectionError(f"malformed chunked body line: {line[:80]!r}")
        return line[:-2]

    def _read_chunked(self):
        """Parses a chunked body by hand to keep each chunk's arrival time and the trailers."""
        chunks, trailers = [], {}
        while True:
            size_line = self._read_line().split(b";", 1)[0].strip()
            size = int(size_line, 16)
            if size == 0:
                break
            data = self.rfile.read(size)
            if len(data) != size or self.rfile.read(2) != b"\r\n":
                raise ConnectionError("chunk shorter than its size line")
            chunks.append(Chunk(time.time(), data))
        while True:
            line = self._read_line()
            if not line:
                break
            name, _, value = line.decode("latin-1").partition(":")
            trailers[name.strip().lower()] = value.strip()
        return chunks, trailers

    def _drain_and_refuse(self, status, reason, error_type="InvalidRequest", length=None):
        if length is None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                self._read_chunked()
            else:
                length = int(self.headers.get("Content-Length", "0"))
        if length:
            self.rfile.read(length)
        self.emu._refuse(self.command, self.path, status, reason)
        body = json.dumps({"errorMessage": reason, "errorType": error_type}).encode()
        self._reply(status, body, {"Content-Type": "application/json"})

    def _reply(self, status, body, headers):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


def _split_prelude(invocation: Invocation):
    at = invocation.body.find(PRELUDE_SEPARATOR)
    if at < 0:
        invocation.prelude_error = "no 8 NUL bytes after the prelude"
        return
    try:
        prelude = json.loads(invocation.body[:at])
    except ValueError as e:
        invocation.prelude_error = f"prelude is not JSON: {e}"
        return
    if not isinstance(prelude, dict):
        invocation.prelude_error = "prelude is not a JSON object"
        return
    invocation.prelude = prelude


# Lambda formats


def new_trace_id() -> str:
    """An X-Ray trace header as Lambda sends it."""
    return (f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};"
            f"Parent={uuid.uuid4().hex[:16]};Sampled=1")


def http_event(method, path, body=None, headers=None, query="", base64_body=False, cookies=None):
    """A function URL / API Gateway HTTP API event, payload format 2.0, like real ones."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    all_headers = {"host": "abcdefg.lambda-url.us-east-1.on.aws", "user-agent": "pytest",
                   "x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.7"}
    if body is not None:
        all_headers["content-type"] = "application/json"
    all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
    if body is not None and base64_body:
        body = base64.b64encode(body.encode()).decode()
    now = time.time()
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": all_headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefg",
            "domainName": "abcdefg.lambda-url.us-east-1.on.aws",
            "domainPrefix": "abcdefg",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.7", "userAgent": "pytest"},
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": base64_body,
    }
    if query:
        event["queryStringParameters"] = dict(p.split("=", 1) if "=" in p else (p, "") for p in query.split("&"))
    if cookies:
        event["cookies"] = list(cookies)
    if body is not None:
        event["body"] = body
    return event


def parse_sse(data: bytes) -> list:
    """Server-sent events' data fields: JSON decoded, "[DONE]" kept as the string."""
    events = []
    for block in data.decode("utf-8").split("\n\n"):
        if not block.strip():
            continue
        lines = [line[len("data:"):].lstrip(" ") for line in block.split("\n") if line.startswith("data:")]
        if not lines:
            continue
        text = "\n".join(lines)
        events.append(text if text == "[DONE]" else json.loads(text))
    return events
