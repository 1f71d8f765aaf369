"""An HTTP client for URLs that workspace members (or operators) type in: webhooks, SMS providers.

A webhook URL is chosen by a workspace member, so a careless or hostile one could point it at the
cloud metadata service (169.254.169.254), the database on 10.0.0.5 or our own admin on 127.0.0.1
(server-side request forgery). The guard runs at connect time, not when the URL is saved: the host
is resolved here, every address it resolves to must be global, and the socket connects to one of
those vetted addresses. Checking a name and letting the library resolve it again would let a DNS
answer that changes in between (rebinding) slip through. HTTPS still verifies the certificate
and sends SNI for the host name, since only the TCP connection uses the vetted address.

No redirects are followed (a 3xx is the caller's to refuse), no proxy from the environment is used
(a proxy would resolve the name itself), and every request has a connect timeout and a deadline
for the whole exchange. Only the standard library: `http.client`.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

CONNECT_TIMEOUT = 5.0
TOTAL_TIMEOUT = 10.0
MAX_RESPONSE_BYTES = 64 * 1024  # we only need the status, a few headers and a small JSON answer

# NAT64 (RFC 6052) carries an IPv4 address in its last 32 bits: 64:ff9b::a00:5 is 10.0.0.5.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RequestError(Exception):
    """The request did not get an HTTP answer. `transient`: a later try may work (timeouts,
    refused or reset connections, DNS failures); not transient: it never will (a blocked
    address, a malformed URL)."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class BlockedAddressError(RequestError):
    """The host resolves to an address that is not on the public internet."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=False)


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes = field(repr=False)

    def header(self, name: str) -> str:
        return str(self.headers.get(name, ""))


def blocked_reason(address: IpAddress) -> str | None:
    """Why a connection to `address` is refused, or None for a public address. IPv4-mapped
    (::ffff:127.0.0.1) and NAT64 addresses are judged by the IPv4 address inside them."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return blocked_reason(address.ipv4_mapped)
        if address in _NAT64:
            return blocked_reason(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    # `is_global` alone lets multicast through (224.0.0.0/4 is not in Python's private list).
    for reason in ("loopback", "link_local", "private", "multicast", "reserved", "unspecified"):
        if getattr(address, f"is_{reason}"):
            return reason.replace("_", "-")
    if not address.is_global:
        return "non-global"
    return None


def vetted_addresses(host: str, port: int, *, allow_private: bool) -> list[tuple[Any, ...]]:
    """`getaddrinfo` for a TCP connection, refused as a whole if any answer is not public: a
    name with one public and one private address must not get a second chance at the private one."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        raise RequestError(f"Cannot resolve {host}: {error.strerror or error}.", transient=True) from error
    if not infos:
        raise RequestError(f"{host} resolves to no address.", transient=True)
    if not allow_private:
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            reason = blocked_reason(address)
            if reason is not None:
                raise BlockedAddressError(
                    f"Refused to connect to {host}: it resolves to {address}, a {reason} address."
                )
    return infos


def _connector(allow_private: bool) -> Callable[..., socket.socket]:
    """A replacement for `socket.create_connection` that connects only to vetted addresses."""

    def create_connection(
        address: tuple[str, int], timeout: float | None = None, source_address: Any = None
    ) -> socket.socket:
        host, port = address
        last_error: OSError | None = None
        for family, kind, proto, _name, sockaddr in vetted_addresses(host, port, allow_private=allow_private):
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(timeout)
                if source_address:
                    sock.bind(source_address)
                sock.connect(sockaddr)
            except OSError as error:
                sock.close()
                last_error = error
                continue
            return sock
        raise last_error or OSError(f"Could not connect to {host}.")

    return create_connection


class GuardedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int | None = None, *, allow_private: bool, **kwargs: Any) -> None:
        super().__init__(host, port, **kwargs)
        self._create_connection = _connector(allow_private)


class GuardedHTTPSConnection(http.client.HTTPSConnection):
    """TCP to the vetted address; TLS still checks the certificate against the host name."""

    def __init__(self, host: str, port: int | None = None, *, allow_private: bool, **kwargs: Any) -> None:
        kwargs.setdefault("context", ssl.create_default_context())
        super().__init__(host, port, **kwargs)
        self._create_connection = _connector(allow_private)


class GuardedClient:
    """POSTs over one kept-alive connection per origin; use `with GuardedClient(...) as client:`
    for a batch (each connect is vetted again) or call `post` once without it."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        connect_timeout: float = CONNECT_TIMEOUT,
        total_timeout: float = TOTAL_TIMEOUT,
    ) -> None:
        self.allow_private = allow_private
        self.connect_timeout = connect_timeout
        self.total_timeout = total_timeout
        self._connections: dict[tuple[str, str, int], http.client.HTTPConnection] = {}

    def __enter__(self) -> GuardedClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    def post(self, url: str, *, body: bytes, headers: Mapping[str, str]) -> Response:
        """One POST; raises RequestError when no HTTP answer came (never for an HTTP status)."""
        scheme, host, port, target = parse_url(url)
        origin = (scheme, host, port)
        deadline = time.monotonic() + self.total_timeout
        connection = self._connections.pop(origin, None)
        if connection is not None:
            try:
                return self._keep(
                    origin, connection, self._exchange(connection, target, body, headers, deadline)
                )
            except _StaleConnectionError:
                pass  # a kept-alive connection the server had closed meanwhile: one fresh try
        connection = self._connect(scheme, host, port)
        return self._keep(origin, connection, self._exchange(connection, target, body, headers, deadline))

    def _keep(
        self, origin: tuple[str, str, int], connection: http.client.HTTPConnection, response: Response
    ) -> Response:
        if connection.sock is not None:
            self._connections[origin] = connection
        return response

    def _connect(self, scheme: str, host: str, port: int) -> http.client.HTTPConnection:
        connection_class = GuardedHTTPSConnection if scheme == "https" else GuardedHTTPConnection
        return connection_class(host, port, allow_private=self.allow_private, timeout=self.connect_timeout)

    def _exchange(
        self,
        connection: http.client.HTTPConnection,
        target: str,
        body: bytes,
        headers: Mapping[str, str],
        deadline: float,
    ) -> Response:
        """Closes the connection on any failure, so only a healthy one is kept for the next POST."""
        try:
            return self._request(connection, target, body, headers, deadline)
        except BaseException:
            connection.close()
            raise

    def _request(
        self,
        connection: http.client.HTTPConnection,
        target: str,
        body: bytes,
        headers: Mapping[str, str],
        deadline: float,
    ) -> Response:
        host = connection.host
        try:
            if connection.sock is None:
                connection.connect()
            _set_deadline(connection, deadline)
            connection.request("POST", target, body=body, headers=dict(headers))
            _set_deadline(connection, deadline)
            response = connection.getresponse()
            data = _read_limited(connection, response, deadline)
        except RequestError:
            raise
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
            raise _StaleConnectionError(f"{host} closed the connection: {error}.", transient=True) from error
        except TimeoutError as error:
            raise RequestError(f"{host} did not answer in time.", transient=True) from error
        except ssl.SSLCertVerificationError as error:
            message = f"{host}'s TLS certificate was refused: {error.verify_message}."
            raise RequestError(message, transient=False) from error
        except (OSError, http.client.HTTPException) as error:
            raise RequestError(f"Could not reach {host}: {error}.", transient=True) from error
        if response.will_close:
            connection.close()
        return Response(status=response.status, headers=response.headers, body=data)


class _StaleConnectionError(RequestError):
    """The server closed the connection before answering (also: a kept-alive one it had dropped)."""


def _set_deadline(connection: http.client.HTTPConnection, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    if connection.sock is not None:
        connection.sock.settimeout(remaining)


def _read_limited(
    connection: http.client.HTTPConnection, response: http.client.HTTPResponse, deadline: float
) -> bytes:
    """The body up to MAX_RESPONSE_BYTES, under the deadline (a server dripping one byte at a
    time must not hold a worker); a longer body is cut and the connection not reused."""
    chunks: list[bytes] = []
    size = 0
    while size < MAX_RESPONSE_BYTES:
        _set_deadline(connection, deadline)
        chunk = response.read1(MAX_RESPONSE_BYTES - size)
        if not chunk:
            response.close()  # marks the exchange finished, so the connection can carry the next one
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    if not response.isclosed():
        connection.close()
    return b"".join(chunks)


def parse_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an http(s) URL without credentials."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise RequestError(f"Not a valid URL: {url!r}.", transient=False) from error
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise RequestError(f"Only http and https URLs can be called, not {url!r}.", transient=False)
    if parts.username is not None or parts.password is not None:
        raise RequestError("The URL must not carry a user name or password.", transient=False)
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), target
