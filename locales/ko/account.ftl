# Logging in and signing up.

account-log-in = 로그인
account-sign-up = 가입하기
account-email = 이메일
account-password = 비밀번호
account-password-hint = 8~128자. 몇 단어로 된 긴 문구가 가장 좋습니다.
account-invite = 초대 코드
account-create = 계정 만들기
account-no-account-html = 아직 계정이 없나요? <a href="/signup">가입하기</a>
account-closed-html = 이 사이트는 지금 가입을 받지 않습니다. 계정이 있다면 <a href="/login">로그인</a>하세요.
account-have-account-html = 이미 계정이 있나요? <a href="/login">로그인</a>하세요. 게스트로 나눈 대화는 그대로 내 것이 됩니다.
