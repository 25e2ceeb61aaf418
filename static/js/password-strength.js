// 密码强度 meter (F5): 无 / 弱 / 中 / 强 from length and character classes, updated as the
// learner types. The server applies the real rules when the form is sent.
const input = document.querySelector("#new_password");
const meter = document.querySelector("#strength");
const text = meter.querySelector(".strength-text");
const LABELS = ["无", "弱", "中", "强"];

export function strength(password) {
  if (!password) return 0;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  const repeated = /^(.)\1+$/.test(password) || /^(?:0123|1234|abcd|qwer)/i.test(password);
  if (password.length < 8 || classes < 2 || repeated) return 1;
  if (password.length >= 12 && classes >= 3) return 3;
  return 2;
}

input.addEventListener("input", () => {
  const level = strength(input.value);
  meter.dataset.level = String(level);
  text.textContent = LABELS[level];
});
