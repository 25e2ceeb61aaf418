// 打印档案: the browser's print dialog; the print stylesheet (site.css) leaves the page's
// navigation and buttons off the paper.
document.querySelector("#print-archive")?.addEventListener("click", () => window.print());
