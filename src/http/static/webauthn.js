// Passkey ceremonies for Gatehouse's pages (the only script they load; CSP: script-src 'self').
// The page carries the server's options as JSON in #webauthn-options and a form #webauthn-form
// with a hidden "response" field; the button #webauthn-start runs the ceremony and posts the
// result. @simplewebauthn/browser (SimpleWebAuthnBrowser) does the encoding work.
(function () {
  var start = document.getElementById('webauthn-start');
  var optionsElement = document.getElementById('webauthn-options');
  var form = document.getElementById('webauthn-form');
  var errorElement = document.getElementById('webauthn-error');
  if (!start || !optionsElement || !form) return;
  start.hidden = false;
  start.addEventListener('click', async function () {
    errorElement.hidden = true;
    try {
      var options = JSON.parse(optionsElement.textContent);
      var lib = window.SimpleWebAuthnBrowser;
      var result = start.dataset.mode === 'register'
        ? await lib.startRegistration({ optionsJSON: options })
        : await lib.startAuthentication({ optionsJSON: options });
      form.elements.response.value = JSON.stringify(result);
      form.submit();
    } catch (error) {
      errorElement.textContent = errorElement.dataset.message + ' (' + (error && error.name ? error.name : 'error') + ')';
      errorElement.hidden = false;
    }
  });
})();
