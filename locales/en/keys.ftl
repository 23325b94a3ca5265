# Settings: the user's API keys for /v1.

keys-title = API keys
# Around the /v1 URL: "An API key lets a program use this site's OpenAI-compatible API at <url>, on your account…"
keys-intro-before = An API key lets a program use this site's OpenAI-compatible API at{" "}
keys-intro-after = , on your account and your daily budget.
keys-copy-now = Copy this key now: it will not be shown again.
keys-hash-only = Only a hash of it is kept. If you lose it, revoke it and create another.
keys-try-it = Try it:
# Around the /v1 URL: "OpenAI SDKs take the base URL <url> and this key."
keys-sdk-before = OpenAI SDKs take the base URL{" "}
keys-sdk-after = {" "}and this key.
keys-create-heading = Create a key
keys-name = Name
keys-name-placeholder = laptop, CI, my-script…
keys-create = Create key
keys-name-hint = 1 to 100 characters, to tell your keys apart.
keys-yours = Your keys
keys-none = You have no API keys yet.
keys-key = Key
keys-created-utc = Created (UTC)
keys-last-used-utc = Last used (UTC)
keys-status = Status
keys-never = never
keys-live = live
keys-revoked = revoked
keys-revoke = Revoke
keys-revoke-label = Revoke { $name }
keys-revoke-note = A revoked key stops working at once, and cannot be brought back.
keys-use-heading = Use a key
keys-use-intro = Send it as a bearer token, like OpenAI's API:
