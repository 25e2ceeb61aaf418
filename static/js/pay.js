// 支付方式选择 (F11–F14): the button reads 前往支付 for 支付宝 (the manual's word) and
// 确认支付 otherwise; choosing a bank chooses 银行卡支付, and another method clears the bank.
// Without scripts the form works the same: the server reads the bank only for 银行卡支付.
const form = document.querySelector("#pay-form");

if (form) {
  const button = form.querySelector("#pay-submit");
  const banks = form.querySelectorAll('input[name="bank"]');
  const method = () => form.querySelector('input[name="method"]:checked')?.value;
  const label = () => {
    button.textContent = method() === "alipay" ? "前往支付" : "确认支付";
  };
  for (const bank of banks) {
    bank.addEventListener("change", () => {
      form.querySelector('input[name="method"][value="bank"]').checked = true;
      label();
    });
  }
  for (const choice of form.querySelectorAll('input[name="method"]')) {
    choice.addEventListener("change", () => {
      if (method() !== "bank") for (const bank of banks) bank.checked = false;
      label();
    });
  }
}
