// 目录 (F16): a chapter left unfinished asks 检测到您上次未学完，是否继续学习！ before playing.
// 继续学习 resumes where the learner stopped, 重新学习 starts from 0. Without scripts the
// chapter link resumes.
const dialog = document.querySelector("#resume-dialog");
const resume = dialog.querySelector("#resume-continue");
const restart = dialog.querySelector("#resume-restart");

for (const link of document.querySelectorAll("a[data-resume]")) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    resume.href = link.href;
    restart.href = `${link.href}?start=0`;
    dialog.showModal();
  });
}
