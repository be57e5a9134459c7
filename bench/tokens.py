"""Access tokens for the benchmark's users, minted without a login.

Run by bench/run.py as ``python -m bench.tokens USERNAME ...`` with the run's
environment (same SECRET_KEY as the server); prints ``{"username": "jwt"}``.
Logging in sixteen users through the API would cost sixteen PBKDF2 hashes
for nothing the benchmark measures; the login scenario measures those.
"""

import json
import os
import sys

import django


def main(usernames: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devlab.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import AccessToken

    users = get_user_model().objects.filter(username__in=usernames)
    print(json.dumps({user.username: str(AccessToken.for_user(user)) for user in users}))


if __name__ == "__main__":
    main(sys.argv[1:])
