// Registers <storebot-chat> once, even if the bundle runs twice on a page.
import { StorebotChatElement } from "./element.js";

if (!customElements.get("storebot-chat")) customElements.define("storebot-chat", StorebotChatElement);

export { StorebotChatElement };
