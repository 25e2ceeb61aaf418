// Two-step registration (F1 → F2): one fieldset at a time. The server validates everything;
// this only checks step 1 enough to avoid a round trip for an obvious mistake.
const section = document.querySelector(".register");
const form = section.querySelector("form");
document.documentElement.classList.add("js-steps");

const showStep = (step) => {
  section.dataset.step = String(step);
  const first = section.querySelector(`#step-${step} input, #step-${step} select`);
  if (first) first.focus();
};

const setError = (name, message) => {
  const input = form.elements[name];
  const field = input.closest(".field");
  let note = field.querySelector(".field-error");
  if (!message) {
    field.classList.remove("has-error");
    if (note) note.remove();
    return;
  }
  if (!note) {
    note = document.createElement("p");
    note.className = "field-error";
    field.append(note);
  }
  note.textContent = message;
  field.classList.add("has-error");
};

const checkAccount = () => {
  const username = form.elements.username.value.trim();
  const password = form.elements.password.value;
  const confirm = form.elements.password_confirm.value;
  const problems = {
    username: /^[A-Za-z0-9_]{4,20}$/.test(username) ? "" : "用户名为4–20位字母、数字或下划线",
    password: password.length >= 8 ? "" : "密码长度至少为8位",
    password_confirm: confirm === password ? "" : "两次输入的密码不一致",
  };
  for (const [name, message] of Object.entries(problems)) setError(name, message);
  return Object.values(problems).every((message) => !message);
};

section.querySelector("#to-step-2").addEventListener("click", () => {
  if (checkAccount()) showStep(2);
});
section.querySelector("#to-step-1").addEventListener("click", () => showStep(1));
form.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && section.dataset.step === "1" && event.target.tagName === "INPUT") {
    event.preventDefault();
    if (checkAccount()) showStep(2);
  }
});
