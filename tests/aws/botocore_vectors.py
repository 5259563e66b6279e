#!/usr/bin/env python3
"""Generate random requests and sign them with botocore's SigV4Auth.

sigv4_test runs this script at test time and signs the same requests with
HiveMind's signer, so the reference cannot go stale: whatever botocore is
installed is the one compared against. Each output line is one JSON object:

  {"method", "url", "headers": [[name, value], ...], "body_hex", "service",
   "region", "access_key", "secret_key", "token", "epoch_seconds",
   "expected": {"authorization", "x_amz_date", "x_amz_security_token"}}

"url" is the request as it goes on the wire (path and query percent-encoded).
In half of the cases botocore receives the query as decoded parameters and
encodes them itself, while the wire URL uses a different valid encoding
(lower-case hex, sub-delimiters left raw), so that the signer's decoding and
re-encoding is compared as well.
"""

import argparse
import datetime
import json
import random
import sys
import urllib.parse

import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"]
ENDPOINTS = [
    "https://ec2.us-east-1.amazonaws.com",
    "https://elasticloadbalancing.eu-west-3.amazonaws.com",
    "https://EC2.Eu-Central-1.AmazonAWS.com",
    "http://127.0.0.1:5000",
    "http://localhost:80",
    "https://localhost:443",
    "http://127.0.0.1:443",
    "https://ce.us-east-1.amazonaws.com:8443",
    "http://[::1]:4566",
    "https://user:pass@logs.ap-southeast-2.amazonaws.com",
]
SERVICES = ["ec2", "elasticloadbalancing", "rds", "monitoring", "sts", "logs", "ce", "ssm", "tagging", "iam"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1", "sa-east-1", "af-south-1"]

# Characters for path segments, names and values: unreserved, reserved,
# space, percent, and a few non-ASCII letters (encoded as UTF-8).
PLAIN = "abcXYZ019-_.~"
RESERVED = "!$&'()*+,;=:@/?#[]"
ODD = " %\"<>\\^`{|}"
UNICODE = "éü日本語ñ€😀"

HEADER_NAMES = [
    "Content-Type", "X-Amz-Target", "x-custom-a", "X-Mixed-Case", "X-Empty", "Accept",
    "Content-MD5", "X-Amz-Meta-Note", "User-Agent", "Expect", "Connection", "X-Amzn-Trace-Id",
]


def random_text(rng, max_length, alphabets):
    length = rng.randint(0, max_length)
    pool = "".join(alphabets)
    return "".join(rng.choice(pool) for _ in range(length))


def random_path(rng):
    if rng.random() < 0.1:
        return ""
    segments = []
    for _ in range(rng.randint(0, 5)):
        roll = rng.random()
        if roll < 0.1:
            segments.append(".")
        elif roll < 0.2:
            segments.append("..")
        elif roll < 0.3:
            segments.append("")
        else:
            text = random_text(rng, 8, [PLAIN, RESERVED, ODD, UNICODE]) or "x"
            safe = rng.choice(["", "!$'()*+,;=:@", "-_.~"])
            segments.append(urllib.parse.quote(text, safe=safe))
    path = "/" + "/".join(segments)
    if rng.random() < 0.2:
        path += "/"
    return path


def wire_encode_query_part(rng, text):
    # Another valid encoding of the same text: '+', '&', '=', '#' and '%'
    # must stay encoded, the other sub-delimiters may go raw, and hex digits
    # may be lower case.
    encoded = urllib.parse.quote(text, safe=rng.choice(["-_.~", "-_.~!$'()*,;:@/?"]))
    if rng.random() < 0.5:
        encoded = encoded_lower_hex(encoded)
    return encoded


def encoded_lower_hex(encoded):
    parts = encoded.split("%")
    return parts[0] + "".join("%" + p[:2].lower() + p[2:] for p in parts[1:])


def random_query(rng):
    pairs = []
    names = [random_text(rng, 6, [PLAIN, RESERVED, ODD, UNICODE]) or "k" for _ in range(rng.randint(1, 4))]
    for _ in range(rng.randint(0, 6)):
        name = rng.choice(names)  # repeated names on purpose
        value = "" if rng.random() < 0.2 else random_text(rng, 10, [PLAIN, RESERVED, ODD, UNICODE])
        has_equals = value != "" or rng.random() < 0.5
        pairs.append((name, value, has_equals))
    return pairs


def random_header_value(rng):
    words = [random_text(rng, 6, [PLAIN, "!$&'()*+,;=:@/?#[]%\"<>"]) for _ in range(rng.randint(0, 4))]
    value = ""
    for word in words:
        value += rng.choice([" ", "  ", "\t", " \t  ", ""]) + word
    return rng.choice(["", " ", "  \t"]) + value + rng.choice(["", " ", "\t "])


def random_headers(rng, host):
    headers = []
    for _ in range(rng.randint(0, 7)):
        name = rng.choice(HEADER_NAMES)
        if rng.random() < 0.3:
            name = name.upper() if rng.random() < 0.5 else name.lower()
        headers.append((name, random_header_value(rng)))
    if rng.random() < 0.1:
        headers.append(("Host", host))
    if rng.random() < 0.1:
        headers.append(("X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD"))
    if rng.random() < 0.1:
        # Left over from an earlier attempt: the signer must replace them.
        headers.append(("Authorization", "AWS4-HMAC-SHA256 Credential=stale"))
        headers.append(("X-Amz-Date", "20000101T000000Z"))
    if rng.random() < 0.1:
        headers.append(("X-Amz-Security-Token", "stale-token"))
    return headers


def random_body(rng):
    roll = rng.random()
    if roll < 0.4:
        return b""
    if roll < 0.7:
        return ("Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=tag%3Aapp&Filter.1.Value.1=" +
                random_text(rng, 10, [PLAIN])).encode()
    if roll < 0.9:
        return json.dumps({"logGroupName": random_text(rng, 12, [PLAIN, UNICODE])}).encode()
    return bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))


def make_vector(rng):
    endpoint = rng.choice(ENDPOINTS)
    host = urllib.parse.urlsplit(endpoint).hostname
    path = random_path(rng)
    pairs = random_query(rng)
    params_mode = rng.random() < 0.5

    wire_parts = []
    for name, value, has_equals in pairs:
        if params_mode:
            part = wire_encode_query_part(rng, name)
            if has_equals:
                part += "=" + wire_encode_query_part(rng, value)
        else:
            part = urllib.parse.quote(name, safe="-_.~")
            if has_equals:
                part += "=" + urllib.parse.quote(value, safe="-_.~")
        wire_parts.append(part)
    wire_url = endpoint + path + ("?" + "&".join(wire_parts) if wire_parts else "")

    headers = random_headers(rng, host)
    body = random_body(rng)
    access_key = "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    secret_key = "".join(rng.choice(PLAIN + "+/") for _ in range(40))
    token = "".join(rng.choice(PLAIN + "+/=") for _ in range(rng.randint(20, 200))) if rng.random() < 0.5 else ""
    epoch_seconds = rng.randint(946684800, 4102444799)  # 2000-01-01 to 2099-12-31
    service = rng.choice(SERVICES)
    region = rng.choice(REGIONS)

    header_map = HTTPHeaders()
    for name, value in headers:
        header_map[name] = value
    if params_mode:
        params = [(name, value) for name, value, _ in pairs]
        request = AWSRequest(method=rng.choice(METHODS), url=endpoint + path, headers=header_map, data=body,
                             params=params)
    else:
        request = AWSRequest(method=rng.choice(METHODS), url=wire_url, headers=header_map, data=body)

    signing_time = datetime.datetime.fromtimestamp(epoch_seconds, datetime.timezone.utc).replace(tzinfo=None)
    botocore.auth.get_current_datetime = lambda: signing_time
    SigV4Auth(Credentials(access_key, secret_key, token or None), service, region).add_auth(request)

    return {
        "method": request.method,
        "url": wire_url,
        "headers": [[name, value] for name, value in headers],
        "body_hex": body.hex(),
        "service": service,
        "region": region,
        "access_key": access_key,
        "secret_key": secret_key,
        "token": token,
        "epoch_seconds": epoch_seconds,
        "expected": {
            "authorization": request.headers["Authorization"],
            "x_amz_date": request.headers["X-Amz-Date"],
            "x_amz_security_token": request.headers.get("X-Amz-Security-Token", ""),
        },
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="number of requests to generate")
    parser.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same requests")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    for _ in range(args.count):
        print(json.dumps(make_vector(rng), ensure_ascii=True))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
