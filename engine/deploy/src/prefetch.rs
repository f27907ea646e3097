//! Questions asked ahead: read-only commands added to a host's next exchange, whose answers are
//! kept for the step that asks them later (once each), which then needs no exchange of its own.
//!
//! A question asked ahead can also *derive* the answers of others: one `docker` run whose answer
//! says what several of Kamal's lookups would (see `wharf_commands::facts`). Those it covers are
//! then not sent at all: a step that asks one before the covering question went out sends the
//! covering question instead. A derivation may leave a question out (when its answer is not
//! certain from what it read); that question is then asked as Kamal asks it.

use std::collections::HashMap;
use std::sync::Mutex;
use wharf_commands::Cmd;
use wharf_ssh::Output;

/// Turns a covering question's answer into the answers of the questions it covers (by command
/// text); those it leaves out are asked on their own.
pub type Derive = Box<dyn FnOnce(&Output) -> Vec<(String, Output)> + Send>;

/// A question waiting for its host's next exchange.
pub struct Ahead {
    pub question: Cmd,
    /// The command texts of the questions its answer answers (see [`Derive`]).
    covers: Vec<String>,
    derive: Option<Derive>,
}

/// Per host: the questions waiting to go out, and the answers waiting to be asked for.
#[derive(Default)]
pub struct Prefetch {
    pending: Mutex<HashMap<String, Vec<Ahead>>>,
    answers: Mutex<HashMap<(String, String), Output>>,
}

impl Prefetch {
    /// `questions` go with `host`'s next exchange.
    pub fn ask(&self, host: &str, questions: Vec<Cmd>) {
        let ahead = questions.into_iter().map(|question| Ahead { question, covers: vec![], derive: None });
        self.pending_for(host, |list| list.extend(ahead));
    }

    /// `question` goes with `host`'s next exchange, and its answer answers `covers` through
    /// `derive`.
    pub fn ask_deriving(&self, host: &str, question: Cmd, covers: &[&Cmd], derive: Derive) {
        let covers = covers.iter().map(|c| c.to_string()).collect();
        self.pending_for(host, |list| list.push(Ahead { question, covers, derive: Some(derive) }));
    }

    fn pending_for(&self, host: &str, f: impl FnOnce(&mut Vec<Ahead>)) {
        f(self.pending.lock().unwrap_or_else(|e| e.into_inner()).entry(host.to_string()).or_default())
    }

    /// The answer kept for `question` on `host`, once.
    pub fn take_answer(&self, host: &str, question: &str) -> Option<Output> {
        self.answers.lock().unwrap_or_else(|e| e.into_inner()).remove(&(host.to_string(), question.to_string()))
    }

    /// Whether a question waiting for `host`'s next exchange will answer `question`.
    pub fn covered(&self, host: &str, question: &str) -> bool {
        let pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.get(host).is_some_and(|list| list.iter().any(|a| a.covers.iter().any(|c| c == question)))
    }

    /// The questions waiting for `host`'s next exchange (now taken), but for those in `asked`
    /// (the exchange asks them itself).
    pub fn take_pending(&self, host: &str, asked: &[String]) -> Vec<Ahead> {
        let mut list = self.pending.lock().unwrap_or_else(|e| e.into_inner()).remove(host).unwrap_or_default();
        list.retain(|a| !asked.contains(&a.question.to_string()));
        list
    }

    /// Keeps the answers to `ahead`, and those they derive.
    pub fn keep(&self, host: &str, ahead: Vec<Ahead>, outputs: Vec<Output>) {
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        for (a, out) in ahead.into_iter().zip(outputs) {
            if let Some(derive) = a.derive {
                for (question, answer) in derive(&out) {
                    if a.covers.contains(&question) {
                        answers.insert((host.to_string(), question), answer);
                    }
                }
            }
            answers.insert((host.to_string(), a.question.to_string()), out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_commands::cmd;

    fn out(stdout: &str) -> Output {
        Output { exit_status: 0, exit_signal: None, stdout: stdout.into(), stderr: vec![] }
    }

    #[test]
    fn a_covering_question_answers_what_it_derives_once_and_only_what_it_covers() {
        let p = Prefetch::default();
        let (all, one, two, other) = (cmd!["all"], cmd!["one"], cmd!["two"], cmd!["other"]);
        p.ask_deriving(
            "h",
            all.clone(),
            &[&one, &two],
            Box::new(|o: &Output| {
                let text = o.stdout_str().to_string();
                vec![("one".into(), out(&text)), ("other".into(), out("not covered"))]
            }),
        );
        assert!(p.covered("h", "one") && p.covered("h", "two"));
        assert!(!p.covered("h", "other") && !p.covered("g", "one"));
        let ahead = p.take_pending("h", &[]);
        assert_eq!(ahead.len(), 1);
        assert!(!p.covered("h", "one"), "no longer waiting");
        p.keep("h", ahead, vec![out("1")]);
        assert_eq!(p.take_answer("h", "one").unwrap().stdout, b"1");
        assert!(p.take_answer("h", "one").is_none(), "once");
        assert!(p.take_answer("h", "two").is_none(), "left out by the derivation: asked on its own");
        assert!(p.take_answer("h", &other.to_string()).is_none(), "not covered");
        assert_eq!(p.take_answer("h", "all").unwrap().stdout, b"1");
    }

    #[test]
    fn a_question_the_exchange_asks_itself_is_not_sent_twice() {
        let p = Prefetch::default();
        p.ask("h", vec![cmd!["a"], cmd!["b"]]);
        let ahead = p.take_pending("h", &["a".to_string()]);
        assert_eq!(ahead.iter().map(|a| a.question.to_string()).collect::<Vec<_>>(), ["b"]);
    }
}
