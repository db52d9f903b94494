"""A local HTTP server that answers ListHcpApprox4 the way CIBG's BIG register does."""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DOCTOR = "19012345601"
NURSE = "39012345602"
ENDED_DOCTOR = "19099999903"
UNKNOWN = "19000000004"
FAULTING = "19000000005"

RECORDS = {
    DOCTOR: ("01", "1998-02-06T00:00:00", "0001-01-01T00:00:00"),
    NURSE: ("30", "2005-05-01T00:00:00", "0001-01-01T00:00:00"),
    ENDED_DOCTOR: ("01", "1990-01-01T00:00:00", "2015-12-31T00:00:00"),
}

ENVELOPE = """<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
<soap:Body><ListHcpApprox4Result xmlns="http://services.cibg.nl/ExternalUser"><ListHcpApprox>{records}
</ListHcpApprox></ListHcpApprox4Result></soap:Body></soap:Envelope>"""
RECORD = """<ListHcpApprox4><BirthSurname>Arts</BirthSurname><MailingName>B. Arts</MailingName>
<Initial>B</Initial><Gender>M</Gender><ArticleRegistration><ArticleRegistrationExtApp>
<ArticleRegistrationNumber>{number}</ArticleRegistrationNumber>
<ArticleRegistrationStartDate>{start}</ArticleRegistrationStartDate>
<ArticleRegistrationEndDate>{end}</ArticleRegistrationEndDate>
<ProfessionalGroupCode>{group}</ProfessionalGroupCode>
</ArticleRegistrationExtApp></ArticleRegistration><Specialism/><Mention/><JudgmentProvision/>
<Limitation/></ListHcpApprox4>"""
FAULT = """<?xml version="1.0" encoding="utf-8"?><soap:Envelope
 xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>
<faultcode>soap:Server</faultcode><faultstring>Server was unable to process request.</faultstring>
</soap:Fault></soap:Body></soap:Envelope>"""


class Handler(BaseHTTPRequestHandler):
    requests: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        number = re.search(r"<ns:RegistrationNumber>(\d+)</ns:RegistrationNumber>", body)
        number = number.group(1) if number else ""
        Handler.requests.append({"soapaction": self.headers.get("SOAPAction"), "number": number})
        if number == FAULTING:
            self.answer(500, FAULT)
            return
        records = ""
        if number in RECORDS:
            group, start, end = RECORDS[number]
            records = RECORD.format(number=number, group=group, start=start, end=end)
        self.answer(200, ENVELOPE.format(records=records))

    def answer(self, status: int, text: str) -> None:
        payload = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


@contextmanager
def running_register():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # A short poll interval: shutdown() waits up to one interval (0.5 s by default) per test.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    Handler.requests = []
    try:
        yield f"http://127.0.0.1:{server.server_port}/zksrv/soap/4"
    finally:
        server.shutdown()
        server.server_close()
