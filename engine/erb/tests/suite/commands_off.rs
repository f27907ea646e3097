//! Untrusted templates (commands off) cannot act on the machine. Nothing runs a program:
//! backticks, `%x()`, `system`, `sleep`, `Kamal::Utils.docker_arch`, and `$(...)` in a file
//! `Dotenv` loads all stop the template as needing a real Ruby, and no command has run. Nothing
//! writes a file, commands off or not: the evaluator has no method that does.

use std::collections::HashMap;
use wharf_erb::{Context, Evaluator, RenderError};

#[test]
fn no_template_runs_a_command_when_commands_are_off() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let touch = format!("touch {}", marker.display());
    std::fs::write(dir.path().join(".env"), format!("A=1\nB=$({touch})\n")).unwrap();
    let env: HashMap<String, String> = [("PATH".to_string(), "/usr/bin:/bin".to_string())].into_iter().collect();
    for template in [
        format!("<%= `{touch}` %>"),
        format!("<%= %x({touch}) %>"),
        format!("<%= system(\"{touch}\") %>"),
        "<%= sleep 1 %>".to_string(),
        "<%= Kamal::Utils.docker_arch %>".to_string(),
        "<% require \"dotenv\"; Dotenv.load %>".to_string(),
        "<% require \"dotenv\" %><%= Dotenv.parse(\".env\") %>".to_string(),
    ] {
        let (mut ctx, _out, _err) = Context::captured(env.clone(), dir.path().to_path_buf());
        ctx.allow_commands = false;
        let mut evaluator = Evaluator::new(ctx);
        let result = evaluator.render(&template);
        assert!(matches!(result, Err(RenderError::Unsupported { .. })), "{template}: {result:?}");
        assert!(!marker.exists(), "{template} ran a command");
    }
    // a file without commands still loads
    std::fs::write(dir.path().join(".env"), "A=1\n").unwrap();
    let (mut ctx, _out, _err) = Context::captured(env, dir.path().to_path_buf());
    ctx.allow_commands = false;
    let mut evaluator = Evaluator::new(ctx);
    assert_eq!(evaluator.render("<% require \"dotenv\"; Dotenv.load %><%= ENV[\"A\"] %>").unwrap(), "1");
}

#[test]
fn no_template_writes_a_file() {
    // the evaluator has no method that writes: each of these ends the rendering with an error
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("written");
    let t = target.display();
    for template in [
        format!("<% File.write(\"{t}\", \"x\") %>"),
        format!("<% File.open(\"{t}\", \"w\") {{ |f| f.write(\"x\") }} %>"),
        format!("<% IO.write(\"{t}\", \"x\") %>"),
        format!("<% require \"fileutils\"; FileUtils.touch(\"{t}\") %>"),
        format!("<% require \"fileutils\"; FileUtils.mkdir_p(\"{t}\") %>"),
        format!("<% Dir.mkdir(\"{t}\") %>"),
        format!("<% require \"pathname\"; Pathname.new(\"{t}\").write(\"x\") %>"),
    ] {
        let (mut ctx, _out, _err) = Context::captured(HashMap::new(), dir.path().to_path_buf());
        ctx.allow_commands = false;
        let result = Evaluator::new(ctx).render(&template);
        assert!(result.is_err(), "{template}: {result:?}");
        assert!(!target.exists(), "{template} wrote a file");
    }
    // Nor moves one: the file stays where it is.
    let existing = dir.path().join("existing");
    std::fs::write(&existing, "x").unwrap();
    let template = format!("<% File.rename(\"{}\", \"{t}\") %>", existing.display());
    let (mut ctx, _out, _err) = Context::captured(HashMap::new(), dir.path().to_path_buf());
    ctx.allow_commands = false;
    let result = Evaluator::new(ctx).render(&template);
    assert!(result.is_err(), "{template}: {result:?}");
    assert!(existing.exists() && !target.exists(), "{template} moved the file");
}
