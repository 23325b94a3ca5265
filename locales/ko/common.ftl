# 모든 페이지 공통: 머리글, 언어 전환, 오류 페이지.

nav-apps = 앱
nav-review = 검토
nav-admin = 관리
nav-settings = 설정
nav-log-out = 로그아웃
nav-log-in = 로그인
nav-sign-up = 가입하기
nav-menu = 메뉴
nav-close = 메뉴 닫기
nav-main = 주 메뉴
demo-badge = 데모 모델
demo-badge-title = 설정된 모델이 없어 내장 데모 모델이 답합니다. 실제 모델을 연결하는 방법은 README를 보세요.
drawer-open = ☰ 대화 목록
drawer-close = 목록 닫기
language-switch-label = 언어

error-request-id = 요청 ID:
error-back = 처음으로 돌아가기
error-sign-up = 가입하고 더 많이 쓰기

# 오류 페이지 제목 (상태 코드별).
status-400 = 잘못된 요청
status-401 = 로그인 필요
status-403 = 허용되지 않음
status-404 = 찾을 수 없음
status-405 = 허용되지 않는 방식
status-408 = 시간 초과
status-409 = 충돌
status-413 = 너무 큼
status-415 = 지원하지 않는 형식
status-422 = 처리할 수 없음
status-429 = 한도 도달
status-500 = 서버 오류
status-502 = 모델 오류
status-503 = 일시 중단
status-other = 문제가 생겼습니다
