# The chat: the landing page, a conversation, the sidebar, a message and its meta line.

chat-manage = 관리
chat-new-title = 새 제목
chat-rename = 이름 바꾸기
chat-delete = 대화 삭제
chat-try-an-app = 앱도 써 보세요:
chat-message-label = 메시지
chat-placeholder = { $site }에 메시지 보내기 (Enter로 전송, Shift+Enter로 줄바꿈)
chat-send = 보내기
chat-regenerate = 다시 답하기
chat-regenerate-title = 마지막 질문에 다시 답합니다
chat-data-settings = 내 데이터 설정

# The site's data policy, under the composer.
chat-data-opted-out = 내 대화는 이 사이트의 학습 데이터에서 제외됩니다.
chat-data-used = 내 대화의 답변은 내가 남긴 평가와 수정 내용과 함께 검토되어 학습 데이터로 쓰일 수 있습니다.
chat-data-used-guests = 이곳의 답변은 게스트의 것을 포함해 평가와 수정 내용과 함께 검토되어 학습 데이터로 쓰일 수 있습니다. 가입하면 제외를 선택할 수 있습니다.

sidebar-new = 새 대화
sidebar-label = 대화 목록
sidebar-empty = 아직 대화가 없습니다.

message-other-answers = 이 질문의 다른 답변 { $count }개
message-stop = 멈추기
message-preferred = ✓ 더 나은 답변으로 표시됨
message-prefer = 이 답변이 더 나아요
message-prefer-title = 이 답변에서 대화를 이어 가고, 더 나은 답변으로 기록합니다

# Under an answer: "gpt-4o-mini · 토큰 42개 · 1.3초".
meta-tokens = 토큰 { $count }개
meta-seconds = { $seconds }초
