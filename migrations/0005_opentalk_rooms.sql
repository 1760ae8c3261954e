CREATE TABLE `ot_invites` (
	`code` text PRIMARY KEY NOT NULL,
	`room_id` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_by` text NOT NULL,
	`updated_at` integer NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`expiration` integer,
	FOREIGN KEY (`room_id`) REFERENCES `rooms`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `ot_invites_room` ON `ot_invites` (`room_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `ot_sip_configs` (
	`room_id` text PRIMARY KEY NOT NULL,
	`sip_id` text NOT NULL,
	`password` text NOT NULL,
	`lobby` integer DEFAULT false NOT NULL,
	FOREIGN KEY (`room_id`) REFERENCES `rooms`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ot_sip_configs_sip_id` ON `ot_sip_configs` (`sip_id`);--> statement-breakpoint
CREATE TABLE `signaling_tickets` (
	`ticket_hash` text PRIMARY KEY NOT NULL,
	`room_id` text NOT NULL,
	`entrant` text NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`room_id`) REFERENCES `rooms`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `signaling_tickets_expiry` ON `signaling_tickets` (`expires_at`);