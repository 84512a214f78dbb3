"""Helpers for test_s3.py: a moto S3 server that enforces IAM auth, and a fault-injecting HTTP proxy.

MotoS3 starts `moto_server` on a free loopback port, creates the identities the tests sign
with (an admin user, a reader role assumed through STS so its credentials carry a session
token, and a user without any policy), then switches moto's IAM enforcement on. From then on
moto recomputes every request's SigV4 signature with botocore and evaluates IAM policies, so
a wrong signature or a denied action gets a real 403 from the server.

FaultProxy sits between `lambda-llm fetch` and moto. It speaks just enough HTTP/1.1 to log
every request (method, path, Range) and to cut chosen responses after N body bytes by closing
the connection, which is what a dropped connection looks like to the client.
"""
import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.config import Config

REGION = "us-east-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def moto_command(port):
    """moto_server from the running venv, else the module."""
    script = Path(sys.executable).parent / "moto_server"
    if script.exists():
        return [str(script), "-H", "127.0.0.1", "-p", str(port)]
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


@dataclass
class Identity:
    access_key: str
    secret_key: str
    session_token: str | None = None

    def env(self):
        env = {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env


class MotoS3:
    """A moto server with IAM auth on; `admin` may do anything, `reader` (role + session token)
    may read every bucket except `private`, `nobody` may do nothing."""

    def __init__(self, log_path):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(log_path, "wb")
        env = dict(os.environ)
        for name in [n for n in env if n.startswith("AWS_")]:
            del env[name]
        self.proc = subprocess.Popen(moto_command(self.port), stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self._wait_until_up()
        self.admin = self.reader = self.nobody = None

    def _wait_until_up(self, limit=60.0):
        deadline = time.monotonic() + limit
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.proc.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=2):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not answer on {self.endpoint} within {limit:.0f} s")
                time.sleep(0.1)

    def client(self, service, identity):
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=REGION,
            aws_access_key_id=identity.access_key, aws_secret_access_key=identity.secret_key,
            aws_session_token=identity.session_token,
            config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
        )

    def s3(self):
        return self.client("s3", self.admin)

    def put_verified(self, key, data, bucket="models"):
        """Uploads data with its sha256 in the object metadata, as `fetch` expects;
        returns the digest."""
        digest = hashlib.sha256(data).hexdigest()
        self.s3().put_object(Bucket=bucket, Key=key, Body=data, Metadata={"sha256": digest})
        return digest

    def setup_identities(self):
        """Before auth is on anything is allowed, so any key can create the real identities."""
        bootstrap = Identity("AKIABOOTSTRAP0000000", "bootstrap")
        iam, sts = self.client("iam", bootstrap), self.client("sts", bootstrap)

        iam.create_user(UserName="admin")
        iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="admin")["AccessKey"]
        self.admin = Identity(key["AccessKeyId"], key["SecretAccessKey"])

        iam.create_user(UserName="nobody")
        key = iam.create_access_key(UserName="nobody")["AccessKey"]
        self.nobody = Identity(key["AccessKeyId"], key["SecretAccessKey"])

        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
        iam.create_role(RoleName="reader", AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(RoleName="reader", PolicyName="read", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::private/*"},
            ]}))
        role_arn = iam.get_role(RoleName="reader")["Role"]["Arn"]
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="lambda", DurationSeconds=43200)["Credentials"]
        self.reader = Identity(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])

    def enable_auth(self):
        # Not form-encoded, or Flask swallows the body as form data.
        request = urllib.request.Request(self.endpoint + "/moto-api/reset-auth", data=b"0", method="POST",
                                         headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@contextlib.contextmanager
def running_moto(log_path, buckets=("models", "private")):
    """A MotoS3 with its identities, IAM enforcement on and `buckets` created; stopped on exit."""
    server = MotoS3(log_path)
    try:
        server.setup_identities()
        server.enable_auth()
        s3 = server.s3()
        for bucket in buckets:
            s3.create_bucket(Bucket=bucket)
        yield server
    finally:
        server.stop()


@dataclass
class ProxiedRequest:
    method: str
    path: str
    range: str | None
    body_bytes: int = 0
    cut: bool = False


@dataclass
class FaultProxy:
    """HTTP/1.1 proxy on a free loopback port in front of `upstream_port`.

    `cut_after(request)` returns None to pass a response through whole, or N to forward the
    response head and N body bytes, then close both connections.
    """
    upstream_port: int
    cut_after: object = None
    requests: list = field(default_factory=list)

    def __post_init__(self):
        self.lock = threading.Lock()
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.port = self.server.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self, cut_after=None):
        with self.lock:
            self.requests = []
            self.cut_after = cut_after

    def log(self):
        with self.lock:
            return list(self.requests)

    def close(self):
        self.closed = True
        self.server.close()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        upstream = None
        try:
            while True:
                head = _read_head(client)
                if head is None:
                    return
                request_line, headers = _parse_head(head)
                method, path, _ = request_line.split(" ", 2)
                body = _read_exact(client, int(headers.get("content-length", "0")))
                record = ProxiedRequest(method, path, headers.get("range"))
                with self.lock:
                    self.requests.append(record)
                    cut = self.cut_after(record) if self.cut_after else None
                if upstream is None:
                    upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
                upstream.sendall(head + body)

                response_head = _read_head(upstream)
                if response_head is None:
                    return
                status_line, response_headers = _parse_head(response_head)
                client.sendall(response_head)
                status = int(status_line.split(" ")[1])
                if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
                    length = 0
                elif "content-length" in response_headers:
                    length = int(response_headers["content-length"])
                else:
                    length = None  # until the upstream closes
                closes = (response_headers.get("connection", "").lower() == "close"
                          or status_line.startswith("HTTP/1.0") and "keep-alive" not in response_headers.get("connection", "").lower()
                          or length is None)
                forwarded = 0
                while length is None or forwarded < length:
                    want = 65536 if length is None else min(65536, length - forwarded)
                    if cut is not None:
                        want = min(want, cut - forwarded)
                        if want <= 0:
                            record.cut = True
                            return
                    chunk = upstream.recv(want)
                    if not chunk:
                        return
                    client.sendall(chunk)
                    forwarded += len(chunk)
                    record.body_bytes = forwarded
                if closes:
                    return
        except OSError:
            return
        finally:
            for s in (client, upstream):
                if s is not None:
                    try:
                        s.close()
                    except OSError:
                        pass


def _read_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(1)  # byte by byte: whatever follows the head belongs to the body
        if not chunk:
            return None
        data += chunk
        if len(data) > 65536:
            raise OSError("HTTP head too long")
    return data


def _read_exact(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise OSError("connection closed inside a request body")
        data += chunk
    return data


def _parse_head(head):
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return lines[0], headers


# --- Cuts anywhere in a response, for test_fault_loops.py ---------------------------------------

@dataclass(frozen=True)
class StreamCut:
    """Where to drop a response: after `head_bytes` bytes of its head (0: before anything is
    sent), or, when `body_bytes` is set, after the whole head and that many body bytes (the
    body's length: the complete response, then the connection drops). `reset` sends a TCP RST
    instead of a FIN."""
    head_bytes: int = 0
    body_bytes: int | None = None
    reset: bool = False


class _CuttingSocket:
    """The client side of one proxied connection; closes it once the armed cut is reached."""

    def __init__(self, sock):
        self.sock = sock
        self.cut = None
        self.record = None
        self.sent = 0
        self.limit = None
        self.head = None

    def arm(self, cut, record):
        self.cut, self.record, self.sent, self.limit, self.head = cut, record, 0, None, None
        if cut is not None and cut.body_bytes is None:
            self.limit = cut.head_bytes

    def recv(self, count):
        return self.sock.recv(count)

    def sendall(self, data):
        if self.cut is not None and self.limit is None:
            # FaultProxy sends the whole response head in one call, first.
            self.head = len(data)
            self.limit = self.head + self.cut.body_bytes
        if self.limit is None or self.sent + len(data) < self.limit:
            self.sock.sendall(data)
            self.sent += len(data)
            return
        self.sock.sendall(data[:self.limit - self.sent])
        self.record.cut = True
        if self.head is not None:
            self.record.body_bytes = self.limit - self.head
        if self.cut.reset:
            import struct
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()
        raise OSError("cut by the test")

    def close(self):
        self.sock.close()


class CuttingProxy(FaultProxy):
    """A FaultProxy whose `cut(request)` returns None or a StreamCut, so a response can be cut
    inside its head, right after it, anywhere in its body, or right after its last byte."""

    def __init__(self, upstream_port):
        self._current = threading.local()
        self.cut = None
        super().__init__(upstream_port, cut_after=self._arm)

    def reset(self, cut=None):
        with self.lock:
            self.requests = []
            self.cut = cut
            self.cut_after = self._arm

    def _arm(self, record):
        # Called by FaultProxy._serve, on the connection's own thread, before each response.
        self._current.socket.arm(self.cut(record) if self.cut else None, record)
        return None

    def _serve(self, client):
        self._current.socket = _CuttingSocket(client)
        super()._serve(self._current.socket)
