# 답변이나 그림이 다 끝나지 못한 이유: 채팅과 실행 페이지의 답변 아래, 그리고 API에.
# 답변과 함께 ID로 저장되어, 읽는 사람마다 자기 언어로 봅니다.

answer-stopped = 멈췄습니다.
answer-reader-left = 답변이 끝나기 전에 페이지가 닫혔습니다.
answer-restarted = 이 답변을 쓰는 동안 서버가 다시 시작했습니다.
picture-restarted = 이 그림을 그리는 동안 서버가 다시 시작했습니다.
answer-invalid-output = 모델의 답변이 이 앱의 출력 형식을 따르지 않아 결과로 보여 드리지 않습니다({ $problem }). 앱을 다시 실행하세요.

# 모델 서버의 실패: 무슨 일이 있었고 어떻게 하면 되는지. 제공자의 말은 옮기지 않습니다.
upstream-rate-limited = 지금은 모델이 바쁩니다(요청 한도 초과). 1분 뒤에 다시 시도해 주세요.
upstream-unavailable = 지금은 서비스를 쓸 수 없습니다. 운영자에게 알렸습니다.
upstream-rejected = 모델이 이 요청에 답하지 못했습니다.
upstream-server-error = 모델 서버에 오류가 생겼습니다. 다시 시도해 주세요.
upstream-timeout = 모델이 응답을 멈췄습니다. 다시 시도해 주세요.
upstream-unreachable = 지금은 모델 서버에 연결할 수 없습니다. 나중에 다시 시도해 주세요.
upstream-broken = 답변 도중에 모델과의 연결이 끊겼습니다.
upstream-malformed = 모델이 읽을 수 없는 내용을 보내 답변이 끝났습니다.
upstream-in-band = 모델 서버가 오류를 알려 답변이 끝났습니다.
upstream-not-an-image = 모델이 그림이 아닌 것을 보내서 보여 드릴 것이 없습니다.
upstream-image-too-large = 모델이 이 사이트가 받는 크기(8MiB)보다 큰 그림을 보냈습니다.
upstream-image-timeout = 그림을 그리는 데 너무 오래 걸렸습니다. 다시 시도해 주세요.
