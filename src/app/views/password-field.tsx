/**
 * A labelled password input, as the login, the previous-password prompt and the lock
 * screen each show one: the label text is the input's accessible name (a contract).
 */
export function PasswordField(props: {
  label: string;
  name: string;
  autocomplete: string;
  value: string;
  onValue: (v: string) => void;
  disabled: boolean;
  describedBy?: string;
}) {
  return (
    <label>
      {props.label}
      <input
        type="password"
        name={props.name}
        autocomplete={props.autocomplete}
        value={props.value}
        onInput={(e) => props.onValue(e.currentTarget.value)}
        disabled={props.disabled}
        required
        aria-describedby={props.describedBy}
      />
    </label>
  );
}
