"""Score through Envoy + tokengate with h2o_authn's TokenProvider.

Usage: python score.py BASE_URL TOKEN_ENDPOINT CLIENT_ID   (refresh token on stdin)
Prints the scoring response (JSON) on stdout; exits non-zero on any non-200.
"""
import json
import sys

import h2o_authn
import httpx


def main() -> None:
    base, token_endpoint, client_id = sys.argv[1:4]
    token_provider = h2o_authn.TokenProvider(
        refresh_token=sys.stdin.read().strip(),
        client_id=client_id,
        token_endpoint_url=token_endpoint,
    )
    headers = {"Authorization": f"Bearer {token_provider()}"}
    sample = httpx.get(f"{base}/model/sample_request", headers=headers, timeout=10)
    sample.raise_for_status()
    r = httpx.post(f"{base}/model/score", json=sample.json(), headers=headers, timeout=10)
    r.raise_for_status()
    print(json.dumps(r.json()))


if __name__ == "__main__":
    main()
