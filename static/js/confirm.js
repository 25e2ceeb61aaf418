// Confirmation dialogs (F8 去激活, F10 选课): a form with class "confirm" asks first, in the
// page's #confirm-dialog, with the form's data-confirm text. Without scripts the form is
// sent straight away; the server checks everything either way.
const dialog = document.querySelector("#confirm-dialog");
let pending = null;

for (const form of document.querySelectorAll("form.confirm")) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    pending = form;
    dialog.querySelector(".confirm-title").textContent = form.dataset.confirmTitle;
    dialog.querySelector(".confirm-text").textContent = form.dataset.confirm;
    dialog.returnValue = "";
    dialog.showModal();
  });
}

dialog.addEventListener("close", () => {
  // form.submit() skips the submit event, so this does not reopen the dialog.
  if (dialog.returnValue === "confirm" && pending) pending.submit();
  pending = null;
});
