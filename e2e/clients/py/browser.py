"""Stand in for the user's web browser in an interactive OIDC login.

Usage: python browser.py AUTHORIZATION_URL
Python's webbrowser module runs it (through the BROWSER environment variable)
when mlflow-oidc-client starts its authorization-code login. It follows the
provider's redirects, keeping cookies like a browser, through the test
provider's sign-in and consent (which need no input) to the client's loopback
redirect URI, whose local server receives the authorization code.
"""
import sys
import urllib.parse

import httpx


def main() -> None:
    url = sys.argv[1]
    with httpx.Client(timeout=30) as c:
        for _ in range(12):
            r = c.get(url)
            if r.status_code not in (302, 303):
                # The client's redirect server answers the last hop itself.
                if r.status_code == 200 and url.startswith("http://127.0.0.1"):
                    return
                sys.exit(f"login stopped at {url}: HTTP {r.status_code} {r.text[:300]}")
            url = urllib.parse.urljoin(url, r.headers["location"])
    sys.exit("login did not reach the client's redirect URI in 12 hops")


if __name__ == "__main__":
    main()
