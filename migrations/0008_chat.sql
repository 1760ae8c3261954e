ALTER TABLE `room_members` ADD `last_read_message` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `room_members` ADD `read_count` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `room_members` ADD `last_mention_message` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `room_members` ADD `last_mention_direct` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `rooms` ADD `last_message` text;--> statement-breakpoint
ALTER TABLE `rooms` ADD `comment_count` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `rooms` ADD `message_count` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `rooms` ADD `last_common_read` integer DEFAULT 0 NOT NULL;