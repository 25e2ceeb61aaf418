// F10 试看: the first minutes only. The preview page opens no websocket, so nothing watched
// here is ever credited; this only stops the video at the limit.
const video = document.querySelector("#preview");
const status = document.querySelector("#preview-status");
const limit = Number(video.dataset.limit);

const stopAtLimit = () => {
  if (video.currentTime >= limit) {
    video.pause();
    video.currentTime = limit;
    status.textContent = "试看结束，选课后可观看完整课程";
  }
};
video.addEventListener("timeupdate", stopAtLimit);
video.addEventListener("seeking", stopAtLimit);
