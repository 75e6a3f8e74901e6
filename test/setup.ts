// Tests talk to loopback servers only: a proxy set in the machine's environment must not capture them
// (the proxy tests set their own).
for (const name of Object.keys(process.env)) {
  if (/^(https?|no|all)_proxy$/i.test(name)) delete process.env[name];
}
