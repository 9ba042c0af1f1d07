// tests/browser/review.js -- drives Debian's chromium (headless, through
// puppeteer-core) against vouchd's review console, as a reviewer would:
// signs in with the token, checks what the queue shows, confirms one match
// and rejects another through the page, meets a stale page (someone else
// decided meanwhile), and reads the export.  Run by tests/browser/review.sh,
// which starts vouchd, passes URL, TOKEN, CHROMIUM, OUT (screenshots) and
// PROFILE in the environment and checks the stored decisions afterwards.
// Exits non-zero on the first failed check.
"use strict";
const puppeteer = require("puppeteer-core");

const { URL: BASE, TOKEN, CHROMIUM, OUT, PROFILE } = process.env;
let checks = 0;
function check(name, cond, detail) {
  checks++;
  if (!cond) throw new Error("FAIL: " + name + (detail !== undefined ? ": " + JSON.stringify(detail) : ""));
  console.log("ok: " + name);
}

(async () => {
  const args = ["--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions"];
  if (process.getuid && process.getuid() === 0) args.push("--no-sandbox"); // chromium refuses root otherwise
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM, headless: true, userDataDir: PROFILE, args, timeout: 60000,
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(30000);
    const cspErrors = [], pageErrors = [];
    page.on("console", (m) => { if (/Content Security Policy|Refused to/.test(m.text())) cspErrors.push(m.text()); });
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    await page.setViewport({ width: 1280, height: 900 });

    const resp = await page.goto(BASE + "/review", { waitUntil: "load" });
    check("the page loads", resp.status() === 200, resp.status());
    const csp = resp.headers()["content-security-policy"] || "";
    check("strict CSP", csp.startsWith("default-src 'none'; script-src 'self'"), csp);
    check("login form shown", await page.$eval("#login", (e) => !e.hidden));

    // a wrong token is refused and nothing is shown
    await page.type("#token", "vr_not-a-real-token-at-all");
    await page.click("#signin");
    await page.waitForFunction(() => document.getElementById("status").textContent.includes("not a reviewer token"));
    check("a wrong token is refused", (await page.$$(".item")).length === 0);

    await page.type("#token", TOKEN);
    await page.click("#signin");
    await page.waitForSelector(".item");
    check("the token is not in the URL", !page.url().includes(TOKEN), page.url());
    check("nor in web storage", await page.evaluate((t) =>
      !JSON.stringify(Object.assign({}, localStorage)).includes(t) &&
      !JSON.stringify(Object.assign({}, sessionStorage)).includes(t), TOKEN));
    check("nor left in the input", (await page.$eval("#token", (e) => e.value)) === "");
    check("signed in as rita", (await page.$eval("#who", (e) => e.textContent)) === "rita");
    const items = await page.$$eval(".item", (els) => els.map((e) => ({
      id: Number(e.dataset.item),
      account: e.closest(".account").dataset.account,
      text: e.textContent,
      canvas: e.querySelector("canvas") ? [e.querySelector("canvas").width, e.querySelector("canvas").height] : null,
    })));
    check("3 matched payloads listed (the forgery withheld)", items.length === 3, items.map((i) => i.id));
    check("accounts alice, bob, bob", items.map((i) => i.account).join() === "alice,bob,bob", items);
    check("every item has its derivative drawn", items.every((i) => i.canvas && i.canvas[0] > 0 && i.canvas[0] <= 64));
    check("every item shows the second-hash verdict", items.every((i) => /second hash\s*pass \(score \d+\)/.test(i.text)));
    check("every item shows its matched entry and source", items.every((i) => /bank known, id \S+, distance \d+/.test(i.text) && /sourcesorg-[ac]/.test(i.text)));
    check("alice's withheld forgery is counted", (await page.$eval('[data-account="alice"] h2', (e) => e.textContent)).includes("1 suspected forgery"));
    await page.screenshot({ path: OUT + "/1-queue.png", fullPage: true });

    async function decide(id, decision, note) {
      const sel = `.item[data-item="${id}"]`;
      await page.select(sel + ' select[data-role="decision"]', decision);
      await page.type(sel + ' textarea[data-role="note"]', note);
      await page.click(sel + ' button[type="submit"]');
    }
    const alice = items[0].id, bob1 = items[1].id, bob2 = items[2].id;
    // a note with markup must come back as text
    const nasty = 'same picture <img src=x onerror="window.pwned=1"> & "quoted"';
    await decide(alice, "confirm", nasty);
    await page.waitForFunction((id) => {
      const d = document.querySelector(`.item[data-item="${id}"] .decision`);
      return d && d.textContent.startsWith("confirm by rita");
    }, {}, alice);
    const shown = await page.$eval(`.item[data-item="${alice}"] .decision`, (e) => e.textContent);
    check("the confirmation is shown, its note as text", shown.includes(nasty), shown);
    check("no markup from the note got into the page", await page.evaluate(() => !document.querySelector(".item img") && !window.pwned));

    await decide(bob1, "reject", "a different bridge");
    await page.waitForFunction((id) => {
      const d = document.querySelector(`.item[data-item="${id}"] .decision`);
      return d && d.textContent.startsWith("reject by rita");
    }, {}, bob1);
    check("the rejection is shown", true);

    // a reason is required: nothing is sent without one
    await page.click(`.item[data-item="${bob2}"] button[type="submit"]`);
    check("no reason, no decision", (await page.$eval(`.item[data-item="${bob2}"] .err`, (e) => e.textContent)).includes("reason is required"));

    // someone else decides bob2 while this page still shows it undecided
    const r = await fetch(BASE + "/v1/review/decisions", {
      method: "POST", headers: { Authorization: "Bearer " + TOKEN, "Content-Type": "application/json" },
      body: JSON.stringify({ item: bob2, decision: "escalate", note: "from another desk" }),
    });
    check("another desk decides meanwhile", r.status === 201, r.status);
    await decide(bob2, "confirm", "stale page");
    await page.waitForFunction((id) => {
      const d = document.querySelector(`.item[data-item="${id}"] .decision`);
      return d && d.textContent.startsWith("escalate by rita");
    }, {}, bob2);
    check("the stale page is refused and reloaded with the other desk's decision",
      (await page.$eval("#status", (e) => e.textContent)).includes("decided by someone else"));
    await page.screenshot({ path: OUT + "/2-decided.png", fullPage: true });

    await page.click("#export");
    await page.waitForSelector("#exported:not([hidden])");
    const exp = JSON.parse(await page.$eval("#exportjson", (e) => e.textContent));
    const ds = exp.decisions.map((d) => [d.item, d.decision, d.reviewer]);
    check("the export lists the three decisions", JSON.stringify(ds) === JSON.stringify(
      [[alice, "confirm", "rita"], [bob1, "reject", "rita"], [bob2, "escalate", "rita"]]), ds);
    check("and all four payloads, the forgery marked", exp.items.length === 4 &&
      exp.items.filter((i) => i.second.verdict === "fail").length === 1, exp.items.length);
    await page.screenshot({ path: OUT + "/3-export.png", fullPage: true });

    await page.click("#signout");
    check("signing out clears the queue", (await page.$$(".item")).length === 0);
    check("no CSP violations", cspErrors.length === 0, cspErrors);
    check("no script errors", pageErrors.length === 0, pageErrors);
    console.log(`review.js: ${checks} checks passed; decided ${alice} ${bob1} ${bob2}`);
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e && e.message ? e.message : e);
  process.exit(1);
});
