# Settings: the user's API keys for /v1.

keys-title = API 키
# Around the /v1 URL: "An API key lets a program use this site's OpenAI-compatible API at <url>, on your account…"
keys-intro-before = API 키가 있으면 프로그램이 이 사이트의 OpenAI 호환 API(
keys-intro-after = )를 내 계정과 내 일일 한도로 쓸 수 있습니다.
keys-copy-now = 지금 이 키를 복사하세요. 다시는 보여 드리지 않습니다.
keys-hash-only = 키는 해시로만 저장됩니다. 잃어버렸다면 폐기하고 새로 만드세요.
keys-try-it = 이렇게 써 보세요:
# Around the /v1 URL: "OpenAI SDKs take the base URL <url> and this key."
keys-sdk-before = OpenAI SDK에는 기본 URL{" "}
keys-sdk-after = 와 이 키를 넣으면 됩니다.
keys-create-heading = 키 만들기
keys-name = 이름
keys-name-placeholder = 노트북, CI, 내 스크립트…
keys-create = 키 만들기
keys-name-hint = 키를 구분할 이름, 1~100자.
keys-yours = 내 키
keys-none = 아직 API 키가 없습니다.
keys-key = 키
keys-created-utc = 만든 때 (UTC)
keys-last-used-utc = 마지막 사용 (UTC)
keys-status = 상태
keys-never = 없음
keys-live = 사용 중
keys-revoked = 폐기됨
keys-revoke = 폐기
keys-revoke-label = { $name } 폐기
keys-revoke-note = 폐기한 키는 바로 작동을 멈추고 되살릴 수 없습니다.
keys-use-heading = 키 쓰는 법
keys-use-intro = OpenAI API처럼 Bearer 토큰으로 보내세요:
