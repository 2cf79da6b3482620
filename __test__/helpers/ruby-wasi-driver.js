// Runs CRuby's WebAssembly build (@ruby/3.4-wasm-wasi) through its Node entry
// (@ruby/wasm-wasi/dist/node: `DefaultRubyVM`, which makes a `new WASI(...)` of `require('wasi')`
// and calls `wasi.initialize(instance)`), unmodified, as its README shows. Run by
// wasi-ruby.test.js once as `node -r register.js` (cranewasm and cranewasm/wasi) and once on
// plain Node (V8 and node:wasi). The Ruby program writes through WASI's fd_write to the process's
// stdout and stderr; what the JS side sees (eval results, errors, which engine ran) goes to stdout
// as one last JSON line.
//
//   node [-r register.js] ruby-wasi-driver.js
'use strict';

const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..', '..');

// The Ruby program: a bit of everything a real script does, every result printed.
const PROGRAM = String.raw`
$stdout.sync = true
$stderr.sync = true
puts "Ruby #{RUBY_VERSION} (#{RUBY_PLATFORM})"
puts "env: #{ENV.fetch('RUBY_WASI_GREETING', 'unset')} #{ENV.key?('HOME')}"
require "json"
data = { "name" => "cranewasm", "list" => [1, 2.5, nil, true, "\u00fc\u6f22"], "nested" => { "n" => 10**30 } }
text = JSON.generate(data)
puts text
puts JSON.parse(text) == data
puts (1..40).reduce(:*)
puts (2**521 - 1).to_s(36)
words = %w[pear apple fig banana cherry date]
puts words.sort_by { |w| [w.size, w] }.join(",")
puts words.group_by(&:size).map { |k, v| "#{k}:#{v.join('/')}" }.sort.join(" ")
puts "caf\u00e9 \u00fcber".upcase.bytes.size
puts "2026-12-06T17:00:00Z" =~ /\A(\d+)-(\d+)-(\d+)T/ ? [$1, $2, $3].map(&:to_i).sum : "no"
Point = Struct.new(:x, :y) { def norm2 = x * x + y * y }
puts Array.new(1000) { |i| Point.new(i, -i) }.sum(&:norm2)
fiber = Fiber.new { |a| b = Fiber.yield(a + 1); Fiber.yield(b * 2); :done }
puts [fiber.resume(1), fiber.resume(5), fiber.resume, fiber.alive?].inspect
enum = Enumerator.new { |y| a, b = 0, 1; loop { y << a; a, b = b, a + b } }
puts enum.lazy.select(&:odd?).first(12).inspect
def deep(n) = n.zero? ? 0 : 1 + deep(n - 1)
puts deep(5000)
begin
  raise ArgumentError, "bad argument"
rescue => e
  puts "rescued #{e.class}: #{e.message}"
end
puts Array.new(2_000) { |i| (i * 7919).to_s(16) }.map(&:size).sum
GC.start
puts GC.count > 0
puts Random.new(42).rand(1_000_000)
puts [3, 1, 2].shuffle(random: Random.new(7)).inspect
require "securerandom"
puts SecureRandom.hex(16).size
puts Time.now.year >= 2024
t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
sleep 0.05
elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
puts "slept: #{elapsed >= 0.045 && elapsed < 5}"
puts "no files outside: #{File.exist?('/etc/passwd')} #{Dir.exist?('/tmp')}"
begin
  File.read("/etc/passwd")
rescue SystemCallError => e
  puts "refused: #{e.class.ancestors.include?(SystemCallError)}"
end
$stderr.puts "to stderr: #{[1, 2, 3].sum}"
`;

async function main() {
  const { DefaultRubyVM } = require('@ruby/wasm-wasi/dist/node');
  const binary = fs.readFileSync(require.resolve('@ruby/3.4-wasm-wasi/dist/ruby+stdlib.wasm'));
  const module = await WebAssembly.compile(binary);
  const { vm, wasi, instance } = await DefaultRubyVM(module, { env: { RUBY_WASI_GREETING: 'hello' } });
  vm.eval(PROGRAM);
  const report = {};
  // Values back to JS, and a Ruby exception as a JS error.
  report.value = vm.eval('[1, "two", 3.5].map(&:to_s).join("|")').toString();
  report.number = vm.eval('6 * 7').toString();
  try {
    vm.eval('raise NameError, "no such thing"');
    report.raised = 'no error';
  } catch (error) {
    report.raised = { class: error.constructor.name, message: String(error.message).split('\n')[0] };
  }
  report.memoryBytes = instance.exports.memory.buffer.byteLength;
  // `exit` is WASI's proc_exit: under returnOnExit, node:wasi ends the call by throwing.
  try {
    vm.eval('exit 3');
    report.exit = 'returned';
  } catch (error) {
    report.exit = { type: typeof error, text: String(error && error.description !== undefined ? error.description : error) };
  }
  const cranewasm = require(path.join(ROOT, 'index.js'));
  report.engine = {
    wasiIsCranewasms: wasi.constructor === require(path.join(ROOT, 'wasi.js')).WASI,
    moduleIsCranewasms: module instanceof cranewasm.Module,
    instanceIsCranewasms: instance instanceof cranewasm.Instance,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error) => {
  process.stderr.write(`driver failed: ${error && error.stack}\n`);
  process.exitCode = 1;
});
