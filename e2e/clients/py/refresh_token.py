"""Obtain a refresh token from the test provider by walking its
authorization-code flow over plain HTTP (the provider signs in at once).

Usage: python refresh_token.py ISSUER CLIENT_ID REDIRECT_URI
Prints the refresh token on stdout.
"""
import sys
import urllib.parse

import httpx


def main() -> None:
    issuer, client_id, redirect_uri = sys.argv[1:4]
    with httpx.Client(timeout=10) as c:
        url = issuer + "/auth?" + urllib.parse.urlencode({
            "client_id": client_id, "response_type": "code", "redirect_uri": redirect_uri,
            "scope": "openid offline_access score", "prompt": "consent",
        })
        for _ in range(10):
            r = c.get(url)
            if r.status_code not in (302, 303):
                sys.exit(f"authorization flow stopped at {url}: HTTP {r.status_code} {r.text[:300]}")
            url = urllib.parse.urljoin(url, r.headers["location"])
            if url.startswith(redirect_uri):
                break
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        if "code" not in q:
            sys.exit(f"no code in the redirect: {url}")
        r = c.post(issuer + "/token", data={
            "grant_type": "authorization_code", "code": q["code"][0],
            "redirect_uri": redirect_uri, "client_id": client_id,
        })
        r.raise_for_status()
        body = r.json()
        if "refresh_token" not in body:
            sys.exit(f"token response has no refresh_token: {sorted(body)}")
        print(body["refresh_token"])


if __name__ == "__main__":
    main()
