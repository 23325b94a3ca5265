# The admin page: usage, the kill switch, users, sign-up, exports and API keys.

admin-title = 관리
admin-batches-link-html = <a href="/admin/batches">데이터셋 배치</a>: 앱이나 채팅 프롬프트를 많은 입력에 돌려 검토 대기열에 올립니다.
admin-requests = 요청
admin-tokens = 토큰
admin-estimated-cost = 예상 비용
admin-cost = 비용
admin-errors = 오류

admin-model-calls = 모델 호출
admin-paused = 멈춤.
admin-paused-note = 사용자와 게스트의 새 메시지는 모두 “운영자가 서비스를 잠시 멈췄습니다.”라는 안내와 함께 거절됩니다.
admin-resume-calls = 모델 호출 다시 시작
admin-running = 작동 중.
admin-running-note = 멈추면 다시 시작할 때까지 사용자와 게스트의 새 메시지를 모두 거절합니다. 지금 쓰고 있는 답변은 끝까지 씁니다.
admin-pause-calls = 모델 호출 멈추기

admin-today = 오늘
admin-by-user = 사용자별
admin-no-user-today = 오늘 메시지를 보낸 사용자가 없습니다.
admin-by-guest = 게스트 주소별
admin-no-guest-today = 오늘 메시지를 보낸 게스트가 없습니다.
admin-last-30-days = 최근 30일
admin-day-range = { $first } ~ { $last }
admin-by-day = 날짜별
admin-no-messages-30 = 최근 30일 동안 메시지가 없습니다.
admin-by-app = 앱별
admin-no-calls-30 = 최근 30일 동안 모델 호출이 없습니다.
admin-top-spenders = 가장 많이 쓴 사람
admin-no-spenders = 최근 30일 동안 비용을 쓴 사람이 없습니다.
admin-guest = 게스트
admin-col-user = 사용자
admin-col-address = 주소
admin-col-day = 날짜
admin-col-app = 앱
admin-col-who = 누구

admin-users = 사용자
admin-users-note = 오늘 쓴 토큰은 사용자의 일일 한도에서 빠집니다. 한도를 비워 두면 기본값 { $tokens } 토큰이 적용됩니다.
admin-col-email = 이메일
admin-col-role = 역할
admin-col-status = 상태
admin-col-tokens-today = 오늘 쓴 토큰
admin-col-budget = 일일 토큰 한도
admin-col-actions = 작업
admin-you = (나)
admin-role-admin = 관리자
admin-role-reviewer = 검토자
admin-role-user = 사용자
admin-disabled = 사용 중지됨
admin-active = 사용 중
admin-budget-of = { $email }의 일일 토큰 한도
admin-default = 기본값
admin-save = 저장
admin-enable = 사용 재개
admin-disable = 사용 중지
admin-reset-usage = 오늘 사용량 초기화
admin-make-admin = 관리자로 지정
admin-remove-reviewer = 검토자 해제
admin-make-reviewer = 검토자로 지정

admin-signup = 가입
admin-signup-mode = 가입 방식
admin-signup-open = 공개: 누구나 계정을 만들 수 있습니다
admin-signup-invite = 초대: 초대 코드가 있어야 합니다
admin-signup-closed = 닫힘: 새 계정을 받지 않습니다
admin-invites = 초대 코드
admin-invites-note = 코드 하나로 계정 하나를 만들 수 있고, 가입 방식이 초대일 때만 코드를 묻습니다.
admin-create-invite = 초대 코드 만들기
admin-col-code = 코드
admin-col-used-by = 사용한 사람
admin-not-used = 아직 안 씀

admin-export = 파인튜닝용 내보내기
admin-export-off-html = 내보낼 수 있는 것이 없습니다. promptship.toml의 <code>data_policy</code>가 <code>"off"</code>입니다. <code>"accounts"</code>(제외를 선택하지 않은 로그인 사용자)나 <code>"all"</code>(게스트 포함)로 바꾸세요.
admin-export-accounts-html = 제외를 선택하지 않은 사용자와 데이터셋 배치의 답변을 <code>train.jsonl</code>로 내보냅니다. 모든 예시는 OpenAI의 데이터 검사를 통과하고, 중복은 빠집니다. 무엇을 쓰고 건너뛰었는지는 매니페스트에 적힙니다. 검증용으로 나누려면 <code>promptship export --split 0.9</code>를 쓰세요.
admin-export-all-html = 제외를 선택하지 않은 사용자와 게스트, 데이터셋 배치의 답변을 <code>train.jsonl</code>로 내보냅니다. 모든 예시는 OpenAI의 데이터 검사를 통과하고, 중복은 빠집니다. 무엇을 쓰고 건너뛰었는지는 매니페스트에 적힙니다. 검증용으로 나누려면 <code>promptship export --split 0.9</code>를 쓰세요.
admin-format = 형식
admin-format-pairs = 선호 쌍
admin-sft-formats = (SFT 형식)
admin-app-placeholder = 전체; 채팅은 chat
admin-since = 시작일
admin-download-train = train.jsonl 내려받기
admin-manifest = 매니페스트

admin-no-keys = 사용 중인 API 키가 없습니다.
admin-keys-note = 모든 사용자의 사용 중인 키입니다. 시각은 UTC. 폐기한 키는 바로 작동을 멈춥니다.
admin-col-owner = 주인
admin-col-created = 만든 때
admin-col-last-used = 마지막 사용
admin-revoke-label = { $email }의 { $name } 폐기
