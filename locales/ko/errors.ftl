# 방문자가 보는 오류 중 일반적인 것. 무엇이 잘못되었고 어떻게 하면 되는지 알려 줍니다.
# 기술적인 세부 내용(라이브러리의 메시지, 필드 이름, 숫자)은 인자로 받아 그대로 둡니다.

# 500 페이지: 원인은 로그에만 남깁니다.
error-internal = 서버에서 문제가 생겼습니다. 다시 시도해 주세요. 계속 이러면 요청 ID를 알려 주세요.
error-shutting-down = 서버가 다시 시작하는 중입니다. 몇 초 뒤에 다시 시도하세요.
error-invalid-api-key = API 키가 올바르지 않습니다. /settings/keys에서 키를 만들어 `Authorization: Bearer <key>` 헤더로 보내세요.
error-unknown-model = 이 서비스에는 '{ $model }' 모델이 없습니다. 제공하는 모델은 GET /v1/models에서 볼 수 있습니다.

# 문장을 ID로 저장하기 전에 데이터베이스에 저장된 문장: 쓰인 그대로 보여 줍니다.
as-written = { $text }

# 요청한 것이 없거나 방문자의 것이 아닐 때: 대상마다 한 문장.
not-found-answer = 이 답변을 찾을 수 없습니다. 링크를 확인하거나 처음 페이지에서 다시 시작하세요.
not-found-api-key = 이 API 키를 찾을 수 없습니다. 링크를 확인하거나 처음 페이지에서 다시 시작하세요.
not-found-app = 이 앱을 찾을 수 없습니다. 링크를 확인하거나 처음 페이지에서 다시 시작하세요.
not-found-batch = 이 배치를 찾을 수 없습니다. 링크를 확인하거나 처음 페이지에서 다시 시작하세요.
not-found-conversation = 이 대화를 찾을 수 없습니다. 링크를 확인하거나 처음 페이지에서 다시 시작하세요.
not-found-feedback = 이 피드백을 찾을 수 없습니다. 링크를 확인하거나 처음 페이지에서 다시 시작하세요.
not-found-file = 이 파일을 찾을 수 없습니다. 링크를 확인하거나 처음 페이지에서 다시 시작하세요.
not-found-image = 이 그림을 찾을 수 없습니다. 링크를 확인하거나 처음 페이지에서 다시 시작하세요.
not-found-page = 이 페이지를 찾을 수 없습니다. 링크를 확인하거나 처음 페이지에서 다시 시작하세요.
not-found-run = 이 실행 결과를 찾을 수 없습니다. 링크를 확인하거나 처음 페이지에서 다시 시작하세요.
not-found-share = 이 공유 링크를 찾을 수 없습니다. 링크를 확인하거나 처음 페이지에서 다시 시작하세요.
not-found-user = 이 사용자를 찾을 수 없습니다. 링크를 확인하거나 처음 페이지에서 다시 시작하세요.

# 스키마에 맞지 않는 입력: 모든 필드의 문제를 한 문장으로.
error-input-problems = 입력에 문제가 { $count }개 있습니다: { $problems }.
# 그 목록의 필드 하나: "`notes`: 필수 항목입니다"
field-problem = `{ $field }`: { $problem }

# 서버가 읽지 못한 요청. `detail`은 axum이 영어로 쓴 메시지입니다.
rejection-json-syntax = 요청 본문이 올바른 JSON이 아닙니다. 고쳐서 다시 보내세요. ({ $detail })
rejection-json-data = JSON의 모양이 맞지 않습니다. 빠진 필드, 모르는 필드, 잘못된 타입이 있는지 확인하세요. ({ $detail })
rejection-json-content-type = 본문을 JSON으로 보내세요(`Content-Type: application/json`). ({ $detail })
rejection-form = 양식에 빠졌거나 형식이 맞지 않는 필드가 있습니다. 고쳐서 다시 보내세요. ({ $detail })
rejection-query = 주소의 쿼리 문자열을 읽을 수 없습니다. 고쳐서 다시 보내세요. ({ $detail })
rejection-form-content-type = 양식을 `application/x-www-form-urlencoded`로 보내세요. ({ $detail })
rejection-body = 요청을 읽을 수 없습니다. 다시 보내세요. ({ $detail })
error-cross-site = 다른 사이트에서 보낸 요청은 받지 않습니다. 이 사이트의 양식을 쓰세요.
error-body-unread = 요청 본문을 읽을 수 없습니다. 다시 보내세요.
error-body-slow = 요청 본문이 { $seconds }초 안에 다 오지 않았습니다. 다시 보내세요.
error-body-too-large = 요청 본문이 { $kib }KiB보다 큽니다. 더 적게 보내세요.
error-form-not-utf8 = 양식이 올바른 UTF-8 텍스트가 아닙니다. UTF-8로 보내세요.

# 채팅.
error-message-empty = 메시지가 비어 있습니다. 보낼 내용을 쓰세요.
error-message-control = 메시지에 제어 문자(NUL, ESC 등)가 들어 있습니다. 지우고 다시 보내세요.
error-message-too-long = 메시지가 { $chars }자입니다. 최대 { $max }자까지 보낼 수 있으니 줄여서 다시 보내세요.
error-guest-conversations = 게스트는 대화를 { $max }개까지 보관할 수 있습니다. 하나를 지우거나, 가입해서 더 많이 보관하세요.
error-nothing-to-regenerate = 이 대화에는 다시 답할 질문이 없습니다.
error-answer-busy = 이 대화에서 아직 답변을 쓰고 있습니다. 끝날 때까지 기다리거나 먼저 멈추세요.

# 요청 한도와 예산: 무엇을 다 썼고 언제 다시 쓸 수 있는지.
limit-requests = 이 주소에서 요청이 너무 많습니다. { $seconds }초 기다렸다가 다시 시도하세요.
limit-new-guests = 이 주소에서 새 방문자가 너무 많습니다. 가입하거나 { $minutes }분 뒤에 다시 시도하세요.
limit-logins = 로그인 실패가 너무 많습니다. { $minutes }분 뒤에 다시 시도하세요. 이 주소에서는 더 오래 기다려야 할 수도 있습니다.
# 일일 예산이 다시 채워지는 때: "3시간 20분 후".
resets-in-minutes = { $minutes }분 후
resets-in-hours = { $hours }시간 후
resets-in-hours-minutes = { $hours }시간 { $minutes }분 후
budget-paused-operator = 운영자가 서비스를 잠시 멈췄습니다. 새 메시지는 UTC 00:00({ $resets })부터 다시 받습니다.
budget-paused-spent = 오늘 예산을 다 써서 서비스를 잠시 멈췄습니다. 새 메시지는 UTC 00:00({ $resets })부터 다시 받습니다.
budget-user-tokens = 오늘 쓸 수 있는 토큰 { $limit }개를 다 썼습니다. 한도는 UTC 00:00({ $resets })에 다시 채워집니다.
budget-guest-messages = 게스트가 오늘 보낼 수 있는 메시지 { $limit }개를 다 썼습니다. 한도는 UTC 00:00({ $resets })에 다시 채워집니다. 가입하면 더 많이 쓸 수 있습니다.
budget-guest-tokens = 게스트가 오늘 쓸 수 있는 토큰 { $limit }개를 다 썼습니다. 한도는 UTC 00:00({ $resets })에 다시 채워집니다. 가입하면 더 많이 쓸 수 있습니다.

# 계정.
error-wrong-login = 이메일 또는 비밀번호가 틀렸습니다.
error-signup-closed = 이 사이트는 지금 가입을 받지 않습니다.
error-email = name@example.com처럼 이메일 주소를 입력하세요.
error-email-taken = 이 이메일로 만든 계정이 이미 있습니다. 로그인하세요.
error-invite = 이 초대 코드는 올바르지 않거나 이미 쓰였습니다.
error-password-short = 비밀번호가 너무 짧습니다. { $min }자 이상으로 정하세요.
error-password-long = 비밀번호가 너무 깁니다. { $max }자 이하로 정하세요.
error-password-common = 너무 흔해서 쉽게 짐작할 수 있는 비밀번호입니다. 다른 비밀번호를 정하세요.
error-admins-only = 관리자만 볼 수 있는 페이지입니다.
error-admins-only-log-in = 관리자만 볼 수 있는 페이지입니다. 관리자 계정으로 로그인하세요.

# 제목, API 키, 언어 전환, 설정.
error-title-empty = 제목이 비어 있습니다. 제목을 쓰세요.
error-title-control = 제목에 제어 문자(NUL, ESC 등)가 들어 있습니다. 지우세요.
error-title-long = 제목이 { $max }자보다 깁니다. 줄이세요.
error-key-name-empty = 이름이 비어 있습니다. "노트북"처럼 키를 쓰는 곳의 이름을 붙이세요.
error-key-name-control = 이름에 제어 문자(NUL, ESC 등)가 들어 있습니다. 지우세요.
error-key-name-long = 이름이 { $max }자보다 깁니다. 줄이세요.
error-language = '{ $lang }' 언어는 제공하지 않습니다. 다음 중에서 고르세요: { $offered }.
error-opt-out-value = `opt_out`은 1(내 대화 제외) 또는 0(허용)이어야 합니다.
error-page-range = `limit`은 1부터 { $max }까지, `offset`은 0 이상이어야 합니다.

# 답변에 대한 피드백. 필드의 문제는 필드 이름 뒤에 붙습니다.
feedback-bad-rating = 알 수 없는 평가입니다: `{ $rating }`. `up`이나 `down`을 쓰거나 비워 두세요.
feedback-bad-tag = 알 수 없는 태그입니다: `{ $tag }`. 다음 중에서 쓰세요: { $tags }.
feedback-too-long = { $chars }자입니다. 최대 { $max }자까지이니 줄이세요.
feedback-control = 제어 문자(NUL, ESC 등)가 들어 있습니다. 지우세요.
feedback-empty = 피드백이 비어 있습니다. 평가, 태그, 의견, 더 나은 답변 중 하나를 주세요(피드백을 거두려면 지우세요).
feedback-still-writing = 아직 이 답변을 쓰고 있습니다. 끝난 뒤에 평가하세요.

# OpenAI 호환 API(/v1)는 언제나 영어로 답합니다. SDK와 그 주변 프로그램이 이 문장을 읽기
# 때문입니다. 요청 검사의 문장은 코드에 있으며 `problem`으로 받습니다.
v1-request-problem = { $problem }
v1-too-many-tokens = 메시지(도구와 응답 형식 포함)가 토큰 { $tokens }개입니다. 이 서비스는 최대 { $max }개까지 받습니다.
