# 소개 페이지(/about)와 바닥글의 링크.

about-footer-link = 이 사이트 소개
about-title = 소개
about-heading = { $site } 소개
about-built-by = 만든 사람
about-links = 링크
about-figures = 실시간 지표
about-answers = 제공한 답변
about-median-first-token = 첫 단어까지 걸린 시간(중앙값)
about-median-over = 최근 답변 { $count }개 기준
about-uptime = 가동 시간
about-apps = 프롬프트 앱
about-figures-note = 실행 중인 서비스에서 읽은 값으로, 길어야 { $seconds }초 전의 값입니다.
about-stack = 사용한 기술
about-try = 직접 써 보기
about-try-chat = 채팅 시작하기
about-try-apps = 앱 둘러보기
about-try-api = API 문서 보기
about-milliseconds = { $ms }ms
about-uptime-minutes = { $minutes }분
about-uptime-hours = { $hours }시간 { $minutes }분
about-uptime-days = { $days }일 { $hours }시간
