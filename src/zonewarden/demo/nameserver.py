"""The demo's name server: answers for the invented names from the site book, over UDP and TCP.

A name of a demo site, or any name under it (www., shop.), has one A record, the address of the
demo's web server; a site taken out of the DNS, and every other name in the demo's zones, is
NXDOMAIN; a name outside the zones is REFUSED (this is nobody's resolver). Answers carry TTL 0:
the replay changes them faster than any cache could expire. A malformed query gets FORMERR when
its header can be read, and no answer when it cannot; nothing a client sends stops the server.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import struct
import threading

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from zonewarden.demo.sites import SiteBook

log = logging.getLogger("zonewarden.demo")
HEADER = 12
UDP_LIMIT = 512


def _zone_of(book: SiteBook, qname: dns.name.Name) -> dns.name.Name | None:
    for zone in book.zones:
        origin = dns.name.from_text(zone)
        if qname.is_subdomain(origin):
            return origin
    return None


def _site_of(book: SiteBook, qname: dns.name.Name) -> str | None:
    labels = qname.relativize(dns.name.root).labels
    for start in range(len(labels)):
        name = b".".join(labels[start:])
        if name.isascii():
            found = book.site_name(name.decode("ascii"))
            if found is not None:
                return found
    return None


def _soa(origin: dns.name.Name) -> dns.rrset.RRset:
    text = f"demo-ns.{origin} hostmaster.{origin} 1 3600 600 86400 0"
    return dns.rrset.from_text(origin, 0, dns.rdataclass.IN, dns.rdatatype.SOA, text)


def _formerr(wire: bytes) -> bytes | None:
    """FORMERR for a query whose header reads but whose body does not; nothing for less than a header."""
    if len(wire) < HEADER:
        return None
    (query_id, flags) = struct.unpack("!HH", wire[:4])
    if flags & dns.flags.QR:
        return None  # a response sent to us: never answer one (no loops between servers)
    opcode_bits = flags & 0x7800
    return struct.pack("!HHHHHH", query_id, dns.flags.QR | opcode_bits | dns.rcode.FORMERR, 0, 0, 0, 0)


def answer(book: SiteBook, wire: bytes, *, limit: int = 65535) -> bytes | None:
    """The wire-format answer to one query (None: send nothing)."""
    try:
        query = dns.message.from_wire(wire)
    except (dns.exception.DNSException, ValueError, UnicodeError, IndexError, struct.error):
        return _formerr(wire)
    if query.flags & dns.flags.QR:
        return None
    response = dns.message.make_response(query)
    response.flags &= ~dns.flags.RA
    if query.opcode() != dns.opcode.QUERY:
        response.set_rcode(dns.rcode.NOTIMP)
    elif len(query.question) != 1:
        response.set_rcode(dns.rcode.FORMERR)
    else:
        _fill(book, query.question[0], response)
    try:
        return response.to_wire(max_size=limit)
    except dns.exception.TooBig:
        response.answer, response.authority, response.additional = [], [], []
        response.flags |= dns.flags.TC
        return response.to_wire(max_size=limit)


def _fill(book: SiteBook, question: dns.rrset.RRset, response: dns.message.Message) -> None:
    qname = question.name
    zone = _zone_of(book, qname) if question.rdclass == dns.rdataclass.IN else None
    if zone is None:
        response.set_rcode(dns.rcode.REFUSED)
        return
    response.flags |= dns.flags.AA
    if qname == zone:  # the zone's apex: it has its SOA and nothing else here
        if question.rdtype in (dns.rdatatype.SOA, dns.rdatatype.ANY):
            response.answer.append(_soa(zone))
        else:
            response.authority.append(_soa(zone))
        return
    site = _site_of(book, qname)
    if site is None or not book.resolves(site):
        response.set_rcode(dns.rcode.NXDOMAIN)
        response.authority.append(_soa(zone))
        return
    if question.rdtype in (dns.rdatatype.A, dns.rdatatype.ANY) and ":" not in book.address:
        response.answer.append(
            dns.rrset.from_text(qname, 0, dns.rdataclass.IN, dns.rdatatype.A, book.address)
        )
    elif question.rdtype in (dns.rdatatype.AAAA, dns.rdatatype.ANY) and ":" in book.address:
        response.answer.append(
            dns.rrset.from_text(qname, 0, dns.rdataclass.IN, dns.rdatatype.AAAA, book.address)
        )
    else:
        response.authority.append(_soa(zone))  # the name exists, with no record of this type


class _UDPHandler(socketserver.BaseRequestHandler):
    server: _UDPServer

    def handle(self) -> None:
        data, sock = self.request
        try:
            reply = answer(self.server.book, data, limit=UDP_LIMIT)
        except Exception:  # the server outlives any query; the log names what broke
            log.exception(
                "demo name server: a query of %d bytes from %s broke", len(data), self.client_address
            )
            return
        if reply is not None:
            sock.sendto(reply, self.client_address)


class _TCPHandler(socketserver.BaseRequestHandler):
    server: _TCPServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(10)
        try:
            while True:
                size = self._read(sock, 2)
                if size is None:
                    return
                data = self._read(sock, struct.unpack("!H", size)[0])
                if data is None:
                    return
                reply = answer(self.server.book, data)
                if reply is None:
                    return
                sock.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            return
        except Exception:  # the server outlives any query; the log names what broke
            log.exception("demo name server: a TCP query from %s broke", self.client_address)

    @staticmethod
    def _read(sock: socket.socket, count: int) -> bytes | None:
        chunks, left = [], count
        while left:
            chunk = sock.recv(left)
            if not chunk:
                return None
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)


class _UDPServer(socketserver.UDPServer):
    def __init__(self, book: SiteBook, address: tuple[str, int]) -> None:
        self.book = book
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _UDPHandler)


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, book: SiteBook, address: tuple[str, int]) -> None:
        self.book = book
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _TCPHandler)


class NameServer:
    """The demo's DNS on one loopback address and port, UDP and TCP, from daemon threads."""

    def __init__(self, book: SiteBook, address: str, port: int) -> None:
        self.book = book
        for _attempt in range(20):
            udp = _UDPServer(book, (address, port))
            try:
                tcp = _TCPServer(book, (address, udp.server_address[1]))
            except OSError:
                udp.server_close()
                if port:
                    raise
                continue  # a free UDP port whose TCP twin is taken: try another
            break
        else:
            raise OSError(f"found no port on {address} free for both UDP and TCP")
        self.udp, self.tcp = udp, tcp
        self.address = address
        self.port = int(udp.server_address[1])

    def start(self) -> None:
        for server, label in ((self.udp, "udp"), (self.tcp, "tcp")):
            threading.Thread(target=server.serve_forever, name=f"demo-dns-{label}", daemon=True).start()

    def stop(self) -> None:
        for server in (self.udp, self.tcp):
            server.shutdown()
            server.server_close()
