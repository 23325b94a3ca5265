# 프롬프트 앱의 입력과 모델의 답변을 앱의 스키마로 검사한 결과. 문제는 대상의 이름 뒤에
# 붙습니다: "`tone`: 다음 중 하나여야 합니다: formal, casual".

schema-required = 필수 항목입니다
schema-undeclared = 스키마에 없는 항목입니다
schema-type = { $types } 값이어야 합니다
# JSON 타입, JSON Schema의 이름으로.
schema-type-name = { $type ->
    [string] 텍스트
    [integer] 정수
    [number] 숫자
    [boolean] true 또는 false
    [array] 목록
    [object] 객체
   *[null] null
}
schema-or = { $first } 또는 { $rest }
schema-enum = 다음 중 하나여야 합니다: { $options }
schema-constant = 반드시 다음 값이어야 합니다: { $value }
schema-max-length = { $limit }자 이하여야 합니다(지금 { $count }자)
schema-empty = 비어 있으면 안 됩니다
schema-min-length = { $limit }자 이상이어야 합니다(지금 { $count }자)
schema-maximum = { $limit } 이하여야 합니다
schema-minimum = { $limit } 이상이어야 합니다
schema-exclusive-maximum = { $limit }보다 작아야 합니다
schema-exclusive-minimum = { $limit }보다 커야 합니다
schema-multiple-of = { $multiple }의 배수여야 합니다
schema-max-items = 항목이 { $limit }개 이하여야 합니다(지금 { $count }개)
schema-min-items = 항목이 { $limit }개 이상이어야 합니다(지금 { $count }개)
schema-unique-items = 같은 항목이 두 번 들어가면 안 됩니다
schema-max-properties = 필드가 { $limit }개 이하여야 합니다
schema-min-properties = 필드가 { $limit }개 이상이어야 합니다
schema-pattern = 패턴 `{ $pattern }`에 맞아야 합니다
schema-format = 올바른 { $format } 형식이어야 합니다
schema-no-shape = 스키마가 허용하는 어느 모양에도 맞지 않습니다
schema-many-shapes = 스키마가 허용하는 모양 중 둘 이상에 맞습니다
schema-not-allowed = 여기에는 올 수 없습니다
# `detail`은 검사기가 영어로 쓴 메시지입니다.
schema-other = 스키마에 맞지 않습니다: { $detail }

# 앱의 양식이나 API로 받은 실행 입력.
input-api-only = 이 앱에는 양식이 없습니다. 입력을 JSON으로 API에 보내세요({ $reason })
input-not-object = 입력은 앱의 필드로 된 JSON 객체여야 합니다(GET /api/v1/apps의 input_schema). 예: {"{"}"text": "..."{"}"}
input-control = 제어 문자(NUL, ESC 등)가 들어 있습니다. 지우세요
input-problem = 입력은 { $problem }
input-no-fields = 이 앱의 필드가 아닙니다. 이 앱은 입력을 받지 않습니다
input-unknown-field = 이 앱의 필드가 아닙니다(필드: { $fields })
input-not-integer = 3처럼 정수로 써야 합니다
input-not-number = 2.5처럼 숫자로 써야 합니다
# 필드 안의 한 곳: "2번째 항목의 `text`".
input-key = `{ $key }`
input-item = { $number }번째 항목
input-of = { $outer }의 { $inner }
input-inside = { $problem } ({ $place })
error-input-too-long = 입력이 { $chars }자입니다. 최대 { $max }자까지이니 줄여서 앱을 다시 실행하세요.
error-input-reserved = 입력 필드 `{ $field }`에 템플릿의 역할 표시용으로 예약된 `<<<dotprompt:`가 들어 있습니다. 지우고 다시 실행하세요.
error-prompt-too-long = 이 입력으로 만든 프롬프트가 토큰 { $tokens }개입니다. 이 서비스는 최대 { $max }개까지 받으니 입력을 줄이세요.

# 출력 스키마에 맞지 않는 JSON 앱의 답변.
output-empty = JSON이 와야 할 답변이 비어 있습니다
output-not-json = 답변이 올바른 JSON이 아닙니다({ $detail })
output-problem = 답변은 { $problem }
output-schema-mismatch = 답변이 앱의 출력 스키마에 맞지 않습니다: { $problems }{ $more ->
    [0] {""}
   *[other] {" "}(외 { $more }개)
}
