# 설정 → 내 데이터(/settings/data): 학습 데이터 제외, 데이터 내려받기, 계정 삭제.

data-settings-link = 내 데이터: 보관하는 정보 확인, 내려받기, 계정 삭제
data-title = 내 데이터
data-back-to-keys = ← API 키
data-training-heading = 학습 데이터
data-policy-off = 이 사이트는 대화를 보여 드리기 위해서만 보관하며, 학습 데이터로는 전혀 사용하지 않습니다.
data-policy-accounts = 이 사이트는 로그인한 사용자의 대화에 있는 답변을 검토하고, 평가와 수정 내용과 함께 모델의 학습 데이터로 사용할 수 있습니다.
data-policy-all = 이 사이트는 게스트를 포함한 모든 대화의 답변을 검토하고, 평가와 수정 내용과 함께 모델의 학습 데이터로 사용할 수 있습니다.
data-opted-out = 내 대화는 학습 데이터에서 제외되어 있습니다.
data-allow = 내 대화 사용 허용하기
data-keep-out = 내 대화 제외하기
data-download-heading = 내 데이터 내려받기
data-download-what = 계정 정보, 모든 대화와 앱 실행 기록(다시 생성한 답변 포함), 피드백, 공유 링크, API 키(이름과 날짜만, 키 자체는 제외), 오늘 사용량을 JSON 파일 하나로 내려받습니다.
data-download-button = 내 데이터 내려받기
data-delete-heading = 계정 삭제
data-delete-what = 계정과 그 안의 모든 것이 즉시 삭제됩니다. 대화, 앱 실행 기록, 피드백, 공유 링크(더 이상 열리지 않습니다), API 키, 기기 정보가 모두 지워지고 모든 기기에서 로그아웃됩니다. 되돌릴 수 없습니다.
data-delete-kept = 사이트의 사용량 장부에는 지난 요청의 토큰 수와 비용이 남지만, 누구의 요청이었는지는 남지 않습니다. 그래서 전체 합계가 달라지지 않습니다.
data-delete-password = 확인을 위해 비밀번호를 입력하세요
data-delete-button = 계정 삭제하기
data-delete-wrong-password = 비밀번호가 맞지 않아 아무것도 삭제하지 않았습니다. 로그인할 때 쓰는 비밀번호를 입력하세요.
data-delete-last-admin = 유일한 관리자는 계정을 삭제할 수 없습니다. 먼저 다른 사람을 관리자로 지정한 뒤(관리 → 사용자) 삭제하세요. 아무것도 삭제하지 않았습니다.
data-deleted-title = 계정이 삭제되었습니다
data-deleted-body = 계정과 그 안의 모든 데이터가 삭제되었고, 모든 기기에서 로그아웃되었습니다.
data-deleted-home = 처음으로 돌아가기
