//! Translation of one .wast script into its manifest: the directives become commands the JS
//! runner executes in order, with module bytes inlined (base64), names of modules resolved to
//! instance indices, and wrapper modules (see `wrapper.rs`) for the values JS cannot carry.
//!
//! Every directive gets a stable ID, `<set>/<file>.wast:<line>` (`#2`, `#3`… for further
//! directives starting on the same line), which the known-failure list refers to. Directives the
//! harness cannot run (text-format `module quote` malformed cases, proposals' directives) become
//! `skip` commands with a reason, so they are counted and listed rather than dropped.

use std::collections::HashMap;

use wast::core::{WastArgCore, WastRetCore};
use wast::token::Span;
use wast::{QuoteWat, QuoteWatTest, WastArg, WastDirective, WastExecute, WastInvoke, WastRet};

use crate::exports::{export_types, ExportType};
use crate::json::{base64, Json};
use crate::values::{arg_json, arg_needs_wasm, ret_json, ret_needs_wasm};
use crate::wrapper::Wrapper;

/// Counts of what a translation produced, for the tool's summary line.
#[derive(Default, Clone, Copy)]
pub struct Counts {
    pub commands: usize,
    pub skipped: usize,
    pub wrapped: usize,
    pub wrappers: usize,
}

pub struct Manifest {
    pub json: Json,
    pub counts: Counts,
}

/// Translates the script `text` of `<set>/<file>`.
pub fn translate(set: &str, file: &str, text: &str) -> Result<Manifest, String> {
    let mut lexer = wast::lexer::Lexer::new(text);
    // The spec scripts test names with such characters (names.wast).
    lexer.allow_confusing_unicode(true);
    let with_text = |mut e: wast::Error| {
        e.set_text(text);
        e.to_string()
    };
    let buf = wast::parser::ParseBuffer::new_with_lexer(lexer).map_err(with_text)?;
    let wast = wast::parser::parse::<wast::Wast<'_>>(&buf).map_err(with_text)?;

    let mut t = Translator {
        prefix: format!("{set}/{file}"),
        line_starts: std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect(),
        ids_on_line: HashMap::new(),
        commands: Vec::new(),
        instances: Vec::new(),
        definitions: HashMap::new(),
        names: HashMap::new(),
        current: None,
        wrappers: Vec::new(),
        wrapper_of: HashMap::new(),
        counts: Counts::default(),
    };
    for directive in wast.directives {
        t.directive(directive);
    }

    let mut wrappers = Vec::new();
    for w in &t.wrappers {
        let bytes = w.encode().map_err(|e| {
            format!(
                "{}: wrapper of {:?}: {e}\n{}",
                t.prefix,
                w.field,
                w.to_wat()
            )
        })?;
        wrappers.push(Json::obj([
            ("instance", Json::Int(w.instance as i64)),
            ("field", Json::str(&w.field)),
            ("wasm", Json::Str(base64(&bytes))),
        ]));
    }
    t.counts.commands = t.commands.len();
    t.counts.wrappers = wrappers.len();
    let json = Json::obj([
        ("set", Json::str(set)),
        ("file", Json::str(file)),
        ("commands", Json::Arr(t.commands)),
        ("wrappers", Json::Arr(wrappers)),
    ]);
    Ok(Manifest {
        json,
        counts: t.counts,
    })
}

/// A directive the harness does not run, with the reason.
struct Skip(String);

struct Translator {
    prefix: String,
    /// Byte offset at which each line starts, to turn spans into line numbers quickly.
    line_starts: Vec<usize>,
    ids_on_line: HashMap<usize, usize>,
    commands: Vec<Json>,
    /// Export types of each instantiated module, by instance index.
    instances: Vec<HashMap<String, ExportType>>,
    /// The bytes of each `module definition`, by its name (`None`: the last unnamed one), for
    /// the `module instance` commands that instantiate it.
    definitions: HashMap<Option<String>, Vec<u8>>,
    names: HashMap<String, usize>,
    current: Option<usize>,
    wrappers: Vec<Wrapper>,
    wrapper_of: HashMap<(usize, String), usize>,
    counts: Counts,
}

impl Translator {
    fn line(&self, span: Span) -> usize {
        self.line_starts
            .partition_point(|&start| start <= span.offset())
    }

    /// A new command with its stable ID.
    fn command(&mut self, kind: &str, span: Span) -> Json {
        let line = self.line(span);
        let n = self.ids_on_line.entry(line).or_insert(0);
        *n += 1;
        let id = if *n == 1 {
            format!("{}:{line}", self.prefix)
        } else {
            format!("{}:{line}#{n}", self.prefix)
        };
        Json::obj([
            ("type", Json::str(kind)),
            ("id", Json::Str(id)),
            ("line", Json::Int(line as i64)),
        ])
    }

    fn directive(&mut self, directive: WastDirective<'_>) {
        let span = directive.span();
        let kind = directive_name(&directive);
        match self.run(directive) {
            Ok(command) => self.commands.push(command),
            Err(Skip(reason)) => {
                let mut command = self.command("skip", span);
                command.set("directive", Json::str(kind));
                command.set("reason", Json::Str(reason));
                self.commands.push(command);
                self.counts.skipped += 1;
            }
        }
    }

    fn run(&mut self, directive: WastDirective<'_>) -> Result<Json, Skip> {
        match directive {
            WastDirective::Module(mut module) => {
                let span = module.span();
                let name = module.name().map(|id| id.name().to_string());
                // The instance index is taken even if the module is skipped, so that later actions
                // on it fail (the runner has no such instance) instead of hitting an older one.
                let instance = self.instances.len();
                self.instances.push(HashMap::new());
                self.current = Some(instance);
                if let Some(name) = &name {
                    self.names.insert(name.clone(), instance);
                }
                let bytes = module
                    .encode()
                    .map_err(|e| Skip(format!("wast cannot encode the module: {}", e.message())))?;
                self.instances[instance] = export_types(&bytes)
                    .map_err(|e| Skip(format!("module does not decode: {e}")))?;
                let mut command = self.command("module", span);
                command.set("instance", Json::Int(instance as i64));
                command.set("name", name.map_or(Json::Null, Json::Str));
                command.set("wasm", Json::Str(base64(&bytes)));
                Ok(command)
            }
            WastDirective::Register { span, name, module } => {
                let instance = self.instance(module.map(|id| id.name()))?;
                let mut command = self.command("register", span);
                command.set("as", Json::str(name));
                command.set("instance", Json::Int(instance as i64));
                Ok(command)
            }
            WastDirective::Invoke(invoke) => {
                let span = invoke.span;
                let action = self.invoke(invoke, None)?;
                let mut command = self.command("action", span);
                command.set("action", action);
                Ok(command)
            }
            WastDirective::AssertReturn {
                span,
                exec,
                results,
            } => {
                let results = results
                    .into_iter()
                    .map(|r| match r {
                        WastRet::Core(r) => Ok(r),
                        _ => Err(Skip("component-model value".into())),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let action = match exec {
                    WastExecute::Invoke(invoke) => self.invoke(invoke, Some(&results))?,
                    WastExecute::Get { module, global, .. } => {
                        self.get(module.map(|id| id.name()), global, &results)?
                    }
                    WastExecute::Wat(_) => return Err(Skip("assert_return on a module".into())),
                };
                let expected = results
                    .iter()
                    .map(ret_json)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(Skip)?;
                let mut command = self.command("assert_return", span);
                command.set("action", action);
                command.set("expected", Json::Arr(expected));
                Ok(command)
            }
            WastDirective::AssertTrap {
                span,
                exec,
                message,
            } => match exec {
                WastExecute::Invoke(invoke) => {
                    let action = self.invoke(invoke, None)?;
                    let mut command = self.command("assert_trap", span);
                    command.set("action", action);
                    command.set("text", Json::str(message));
                    Ok(command)
                }
                WastExecute::Get { .. } => Err(Skip("assert_trap on a global get".into())),
                // A trap during instantiation: a start function or an out-of-bounds segment.
                WastExecute::Wat(wat) => self.module_assertion(
                    "assert_uninstantiable",
                    span,
                    QuoteWat::Wat(wat),
                    message,
                ),
            },
            WastDirective::AssertExhaustion {
                span,
                call,
                message,
            } => {
                let action = self.invoke(call, None)?;
                let mut command = self.command("assert_exhaustion", span);
                command.set("action", action);
                command.set("text", Json::str(message));
                Ok(command)
            }
            WastDirective::AssertInvalid {
                span,
                module,
                message,
            } => self.module_assertion("assert_invalid", span, module, message),
            WastDirective::AssertMalformed {
                span,
                module,
                message,
            } => {
                if let QuoteWat::QuoteModule(..) | QuoteWat::QuoteComponent(..) = module {
                    // Malformed text is the text parser's business; the engine only sees binaries.
                    return Err(Skip("text format".into()));
                }
                self.module_assertion("assert_malformed", span, module, message)
            }
            WastDirective::AssertUnlinkable {
                span,
                module,
                message,
            } => self.module_assertion("assert_unlinkable", span, QuoteWat::Wat(module), message),
            WastDirective::ModuleDefinition(mut module) => {
                // Compiled, not instantiated; `module instance` makes instances of it.
                let span = module.span();
                let name = match &module {
                    QuoteWat::Wat(wast::Wat::Module(m)) => m.id.map(|id| id.name().to_string()),
                    _ => None,
                };
                let bytes = module
                    .encode()
                    .map_err(|e| Skip(format!("wast cannot encode the module: {}", e.message())))?;
                self.definitions.insert(name, bytes.clone());
                let mut command = self.command("module_definition", span);
                command.set("wasm", Json::Str(base64(&bytes)));
                Ok(command)
            }
            WastDirective::ModuleInstance {
                span,
                instance: instance_name,
                module,
            } => {
                let definition = module.map(|id| id.name().to_string());
                let instance = self.instances.len();
                self.instances.push(HashMap::new());
                self.current = Some(instance);
                let name = instance_name.map(|id| id.name().to_string());
                if let Some(name) = &name {
                    self.names.insert(name.clone(), instance);
                }
                let bytes = self
                    .definitions
                    .get(&definition)
                    .cloned()
                    .ok_or_else(|| Skip(format!("no module definition {definition:?}")))?;
                self.instances[instance] = export_types(&bytes)
                    .map_err(|e| Skip(format!("module does not decode: {e}")))?;
                let mut command = self.command("module", span);
                command.set("instance", Json::Int(instance as i64));
                command.set("name", name.map_or(Json::Null, Json::Str));
                command.set("wasm", Json::Str(base64(&bytes)));
                Ok(command)
            }
            WastDirective::AssertException { span, exec } => match exec {
                WastExecute::Invoke(invoke) => {
                    let action = self.invoke(invoke, None)?;
                    let mut command = self.command("assert_exception", span);
                    command.set("action", action);
                    command.set("text", Json::str("uncaught exception"));
                    Ok(command)
                }
                _ => Err(Skip("assert_exception on a global get or a module".into())),
            },
            WastDirective::AssertSuspension { .. } => Err(Skip("stack switching proposal".into())),
            WastDirective::Thread(_) | WastDirective::Wait { .. } => {
                Err(Skip("threads proposal".into()))
            }
            WastDirective::AssertInvalidCustom { .. }
            | WastDirective::AssertMalformedCustom { .. } => Err(Skip(
                "custom-section assertion (annotations proposal)".into(),
            )),
        }
    }

    /// assert_invalid, assert_malformed, assert_unlinkable, assert_uninstantiable: the module's
    /// bytes and the expected message.
    fn module_assertion(
        &mut self,
        kind: &str,
        span: Span,
        mut module: QuoteWat<'_>,
        message: &str,
    ) -> Result<Json, Skip> {
        let bytes = match module.to_test() {
            Ok(QuoteWatTest::Binary(bytes)) => bytes,
            Ok(QuoteWatTest::Text(_)) => match module.encode() {
                Ok(bytes) => bytes,
                Err(e) => {
                    return Err(Skip(format!(
                        "text format (wast rejects the quoted module: {})",
                        e.message()
                    )))
                }
            },
            Err(e) => {
                return Err(Skip(format!(
                    "wast cannot encode the module: {}",
                    e.message()
                )))
            }
        };
        let mut command = self.command(kind, span);
        command.set("wasm", Json::Str(base64(&bytes)));
        command.set("text", Json::str(message));
        Ok(command)
    }

    fn instance(&self, name: Option<&str>) -> Result<usize, Skip> {
        match name {
            Some(name) => self
                .names
                .get(name)
                .copied()
                .ok_or_else(|| Skip(format!("unknown module {name}"))),
            None => self
                .current
                .ok_or_else(|| Skip("action before any module".into())),
        }
    }

    /// The wrapper for `(instance, field)`, created on first use.
    fn wrapper(&mut self, instance: usize, field: &str) -> Result<&mut Wrapper, Skip> {
        let key = (instance, field.to_string());
        if let Some(&index) = self.wrapper_of.get(&key) {
            return Ok(&mut self.wrappers[index]);
        }
        let export = self.instances[instance].get(field).ok_or_else(|| {
            Skip(format!(
                "wasm-checked assertion on {field:?}, which the module does not export"
            ))
        })?;
        let wrapper = Wrapper::new(instance, field, export).map_err(Skip)?;
        self.wrapper_of.insert(key, self.wrappers.len());
        self.wrappers.push(wrapper);
        Ok(self.wrappers.last_mut().unwrap())
    }

    fn wrapped(
        &mut self,
        action: &mut Json,
        instance: usize,
        field: &str,
        args: &[WastArgCore<'_>],
        expected: Option<&[WastRetCore<'_>]>,
    ) -> Result<(), Skip> {
        let wrapper = self.wrapper(instance, field)?;
        let check = wrapper.add_check(args, expected).map_err(Skip)?;
        let index = self.wrapper_of[&(instance, field.to_string())];
        action.set("wrapper", Json::Int(index as i64));
        action.set("check", Json::Str(check));
        self.counts.wrapped += 1;
        Ok(())
    }

    /// An invoke action; `expected` is Some for assert_return.
    fn invoke(
        &mut self,
        invoke: WastInvoke<'_>,
        expected: Option<&[WastRetCore<'_>]>,
    ) -> Result<Json, Skip> {
        let instance = self.instance(invoke.module.map(|id| id.name()))?;
        let args = invoke
            .args
            .into_iter()
            .map(|a| match a {
                WastArg::Core(a) => Ok(a),
                _ => Err(Skip("component-model value".into())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let json_args = args
            .iter()
            .map(arg_json)
            .collect::<Result<Vec<_>, _>>()
            .map_err(Skip)?;
        let mut action = Json::obj([
            ("type", Json::str("invoke")),
            ("instance", Json::Int(instance as i64)),
            ("field", Json::str(invoke.name)),
            ("args", Json::Arr(json_args)),
        ]);
        let has_v128 = match self.instances[instance].get(invoke.name) {
            Some(ExportType::Func(f)) => f
                .params()
                .iter()
                .chain(f.results())
                .any(|t| *t == wasmparser::ValType::V128),
            _ => false,
        };
        if has_v128
            || args.iter().any(arg_needs_wasm)
            || expected.is_some_and(|e| e.iter().any(ret_needs_wasm))
        {
            self.wrapped(&mut action, instance, invoke.name, &args, expected)?;
        }
        Ok(action)
    }

    fn get(
        &mut self,
        module: Option<&str>,
        field: &str,
        expected: &[WastRetCore<'_>],
    ) -> Result<Json, Skip> {
        let instance = self.instance(module)?;
        let mut action = Json::obj([
            ("type", Json::str("get")),
            ("instance", Json::Int(instance as i64)),
            ("field", Json::str(field)),
        ]);
        let is_v128 = matches!(self.instances[instance].get(field), Some(ExportType::Global(g)) if g.content_type == wasmparser::ValType::V128);
        if is_v128 || expected.iter().any(ret_needs_wasm) {
            self.wrapped(&mut action, instance, field, &[], Some(expected))?;
        }
        Ok(action)
    }
}

fn directive_name(directive: &WastDirective<'_>) -> &'static str {
    match directive {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
    }
}
