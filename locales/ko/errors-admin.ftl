# 관리자와 검토자 페이지의 오류: 사용자, 검토 대기열, 내보내기, 데이터셋 배치.

error-disable-self = 내 계정은 내가 사용 중지할 수 없습니다. 다른 관리자에게 부탁하세요.
error-paused-value = `paused`는 1(모델 호출 멈추기) 또는 0(다시 시작)이어야 합니다.
error-signup-mode = 가입 방식을 고르세요: open, invite, closed.
error-budget-value = 일일 토큰 한도가 올바르지 않습니다: { $budget }. 0 이상의 정수를 넣거나, 기본값을 쓰려면 비워 두세요.

# 검토 대기열.
error-reject-no-reason = 거절하려면 이유가 필요합니다. 태그 중 하나를 고르세요.
error-reject-reason = 알 수 없는 이유입니다: `{ $reason }`. 다음 중 하나를 쓰세요: { $reasons }.
error-review-held = { $by } 님이 { $until } UTC까지 이 답변을 검토하고 있습니다. 대기열에서 다른 답변을 고르거나 그 뒤에 다시 오세요.
error-edit-empty = 편집한 답변이 비어 있습니다. 답변이 어때야 하는지 쓰거나, 승인 또는 거절하세요.
error-edit-control = 편집한 답변에 제어 문자(NUL, ESC 등)가 들어 있습니다. 지우세요.
error-edit-long = 편집한 답변이 { $chars }자로, 한도 { $max }자보다 { $over }자 깁니다. 줄이세요.
# 대기열 필터에 올 수 없는 값. `want`가 어떤 값을 받는지 말합니다.
error-filter = 필터 값이 올바르지 않습니다: `{ $name }={ $value }`. { $want }
filter-want-version = 프롬프트 버전의 앞부분(16진수)을 쓰세요.
filter-want-rating = up, down, none 중 하나를 쓰세요.
filter-want-state = pending, accepted, edited, rejected 중 하나를 쓰세요.
filter-want-date = 2026-12-04 같은 날짜를 쓰세요.
filter-want-yes-no = yes 또는 no를 쓰세요.
error-filter-page = 페이지 번호가 올바르지 않습니다: `{ $page }`. 1 이상의 숫자를 쓰세요.

# 파인튜닝용 내보내기(관리 페이지와 `promptship export`).
export-unknown-format = 알 수 없는 형식입니다: { $format }. 다음 중 하나를 고르세요: { $formats }.
export-status-pairs = 상태(status)는 SFT 형식에서 답변을 고를 때 씁니다. { $format } 형식은 편집·수정·선호·평가된 답변을 모두 원래 답변이나 형제 답변과 짝지으니 상태를 비워 두세요.
export-unknown-status = 알 수 없는 상태입니다: { $status }. 상태는 다음 값을 쉼표로 나열해 씁니다: { $statuses }.
export-bad-date = 날짜가 올바르지 않습니다: { $date }. 2026-12-01처럼 YYYY-MM-DD로 쓰세요.
export-bad-split = 나누는 비율이 올바르지 않습니다: { $split }. 학습에 쓸 예시의 비율을 0과 1 사이의 값으로 주세요(예: 0.9).
export-policy-off = promptship.toml의 data_policy가 off라서 아무것도 내보내지 않습니다. "accounts"나 "all"로 바꾸세요
export-nothing = 이 조건에 맞는 답변이 없습니다(형식 { $format }, 상태 { $status }, 앱 { $app }, 시작일 { $since }{ $skipped ->
    [0] {""}
   *[other] ; 검사를 통과하지 못한 답변 { $skipped }개
}). 아무것도 쓰지 않았습니다. 답변을 검토하거나 상태, 앱, 날짜 조건을 넓히세요.
# 그 문장에서 비워 둔 조건.
export-any = 전체
export-any-day = 모든 날
export-out-exists = 이미 있는 파일입니다: { $path }. 다른 --out 폴더를 고르거나 파일을 옮기세요.

# 데이터셋 배치: 새 배치 양식과 올린 파일.
batch-target-app = 앱 `{ $app }`
batch-target-chat = 채팅 프롬프트
batch-not-multipart = 새 배치 양식은 페이지의 양식처럼 multipart/form-data로 보내세요. ({ $detail })
batch-field-not-utf8 = 필드 `{ $field }`의 값이 UTF-8 텍스트가 아닙니다. UTF-8로 보내세요.
batch-name = 배치 이름을 1~{ $max }자로 정하세요.
batch-bad-concurrency = 동시 실행은 1부터 { $max }까지의 정수여야 합니다.
batch-no-app = 없는 앱입니다: `{ $app }`. 목록에서 고르세요.
batch-no-source = 입력을 어디서 가져올지 고르세요.
batch-no-file = 올릴 입력 파일(CSV 또는 JSONL)을 고르세요.
batch-file-too-large = 파일이 배치 하나가 받는 최대 크기(BATCH_MAX_UPLOAD_BYTES)인 { $size }보다 큽니다. 작은 배치 여러 개로 나누세요.
batch-file-format = 파일 형식을 알 수 없습니다: { $file }. 형식에 맞게 이름을 .csv나 .jsonl로 끝내세요.
batch-no-description = 모델이 쓸 입력이 어떤 것인지 설명하세요.
batch-bad-count = 입력 개수는 1부터 { $max }까지여야 합니다.
batch-no-examples = 입력 예시를 하나 이상 주세요. 한 줄에 JSON 객체 하나씩 씁니다.
batch-bad-examples = 스키마에 맞지 않는 예시 줄이 있습니다. 고치세요.
batch-not-saved = 배치를 저장하지 못했습니다. 다시 시도하세요.
upload-not-utf8 = 파일이 UTF-8 텍스트가 아닙니다(처음 잘못된 바이트는 { $line }번째 줄). UTF-8로 저장해서(Excel에서는 "CSV UTF-8") 다시 올리세요.
upload-too-many-rows = 파일이 배치 하나가 받는 최대치(BATCH_MAX_ROWS)인 { $max }행을 넘습니다. 나눠서 올리세요.
upload-empty = 파일에 입력이 없습니다. 행을 하나 이상 넣으세요.
upload-rows = 스키마에 맞지 않는 행이 { $count }개 있어 아무것도 가져오지 않았습니다. 고쳐서 파일을 다시 올리세요.
upload-header-unreadable = 머리글 행을 읽을 수 없습니다: { $detail }.
upload-header-columns = 머리글 행에 { $target }에서 받지 않는 열이 있습니다: { $unknown }. 열은 다음 중에서 고르세요: { $fields }.
upload-no-column = (열 없음)
# 잘못된 행의 문제. "3행:" 뒤에 붙습니다.
upload-row-csv = CSV로 읽을 수 없습니다: { $detail }
upload-row-cells = 칸이 { $cells }개인데 머리글 행은 { $columns }개입니다
upload-row-json = JSON이 아닙니다: { $detail }
cell-not-integer = 정수여야 합니다(받은 값: { $cell })
cell-not-number = 숫자여야 합니다(받은 값: { $cell })
cell-not-boolean = true나 false여야 합니다(받은 값: { $cell })
cell-not-json = JSON으로 써야 합니다(받은 값: { $cell })
batch-chat-no-message = 보낼 텍스트를 담은 `{ $field }` 필드가 있어야 합니다
batch-chat-other-fields = 채팅 프롬프트는 `{ $field }` 말고 다른 필드를 받지 않습니다

# 더 진행할 수 없는 배치와 항목이 실패한 이유(`state`: `batch-state`의 말).
batch-cannot-pause = 이 배치는 지금 '{ $state }' 상태입니다. 실행 중인 배치만 멈출 수 있습니다.
batch-cannot-resume = 이 배치는 지금 '{ $state }' 상태입니다. 멈춘 배치만 다시 시작할 수 있습니다.
batch-cannot-cancel = 이 배치는 지금 '{ $state }' 상태라 취소할 것이 남아 있지 않습니다.
batch-paused-by-admin = 관리자가 멈췄습니다.
batch-proposing-stopped = 입력 제안이 멈췄습니다: { $error } 다시 시작하면 이어서 시도합니다.
batch-proposals-unfinished = 모델이 입력 제안을 끝내지 못했습니다. 나중에 다시 시도하세요.
batch-creator-gone = 이 배치를 만든 계정이 없어졌습니다.
batch-app-gone = 더 이상 제공하지 않는 앱입니다: `{ $app }`.
batch-input-unfit = 입력이 더 이상 앱 `{ $app }`의 스키마에 맞지 않습니다.
batch-answer-ended = 답변이 끝나지 못했습니다(상태: { $status }).
